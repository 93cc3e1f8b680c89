from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from thirdway.accounts.models import ApiToken, User
from thirdway.web.admin import ReadOnlyAdmin


@admin.register(User)
class ThirdwayUserAdmin(UserAdmin):
    list_display = ["username", "email", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fieldsets = [*UserAdmin.fieldsets, ("Thirdway", {"fields": ["role", "time_zone"]})]
    readonly_fields = ["role"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
