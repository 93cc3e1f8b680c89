from django.contrib import admin

from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.web.admin import ReadOnlyAdmin


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ["name", "lead_partner", "country", "status"]
    list_filter = ["status", "country"]
    search_fields = ["name"]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "client", "time_zone"]
    search_fields = ["name", "client__name"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["name", "email", "client", "role", "is_active"]
    search_fields = ["name", "email"]


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "client", "serial"]
    search_fields = ["name", "serial"]
