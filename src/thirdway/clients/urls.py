from django.urls import path, re_path

from thirdway.clients import views

app_name = "clients"
KIND = r"(?P<kind>site|contact|asset)"
urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("<int:client_id>/", views.client_detail, name="client_detail"),
    path("<int:client_id>/edit/", views.client_edit, name="client_edit"),
    re_path(rf"^(?P<client_id>\d+)/{KIND}/new/$", views.owned_create, name="owned_create"),
    re_path(
        rf"^(?P<client_id>\d+)/{KIND}/(?P<object_id>\d+)/edit/$",
        views.owned_edit,
        name="owned_edit",
    ),
]
