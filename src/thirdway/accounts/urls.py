from django.urls import path

from thirdway.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("login/code/", views.sign_in_code, name="login_code"),
    path("logout/", views.sign_out, name="logout"),
    path("settings/", views.account_settings, name="settings"),
    path("settings/tokens/", views.issue_token, name="issue_token"),
    path("settings/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("settings/second-factor/", views.second_factor, name="second_factor"),
    path("settings/second-factor/off/", views.disable_second_factor, name="second_factor_off"),
]
