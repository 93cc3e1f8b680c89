from django.urls import path

from thirdway.backup import views

app_name = "backup"
urlpatterns = [
    path("", views.backup_list, name="list"),
    path("now/", views.back_up_now, name="now"),
]
