from django.contrib import admin
from django.urls import include, path

from thirdway import views
from thirdway.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("thirdway.accounts.urls")),
    path("partners/", include("thirdway.network.urls")),
    path("clients/", include("thirdway.clients.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
