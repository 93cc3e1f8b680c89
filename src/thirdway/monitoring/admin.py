from django.contrib import admin

from thirdway.monitoring.models import Alert, Check, IntakeDelivery, MaintenanceWindow
from thirdway.web.admin import ReadOnlyAdmin


@admin.register(Check)
class CheckAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "client", "status", "is_paused", "last_result_at"]
    list_filter = ["kind", "status", "is_paused"]
    search_fields = ["name", "target", "client__name"]
    exclude = ["ping_token"]  # a secret: shown on the check's page to those who see it


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["summary", "client", "status", "severity", "opened_at", "repeats"]
    list_filter = ["status", "severity"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ReadOnlyAdmin):
    list_display = ["name", "client", "kind", "starts_at", "ends_at"]


@admin.register(IntakeDelivery)
class IntakeDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["client", "received_at", "processed_at", "outcome"]
