from django.urls import path

from thirdway.network import rota_views as views

app_name = "rotas"
urlpatterns = [
    path("", views.rota_list, name="rota_list"),
    path("new/", views.rota_create, name="rota_create"),
    path("<int:rota_id>/", views.rota_detail, name="rota_detail"),
    path("<int:rota_id>/members/", views.rota_members, name="rota_members"),
    path("<int:rota_id>/overrides/", views.override_add, name="override_add"),
    path(
        "<int:rota_id>/overrides/<int:override_id>/remove/",
        views.override_remove,
        name="override_remove",
    ),
    path("<int:rota_id>/swaps/", views.swap_add, name="swap_add"),
]
