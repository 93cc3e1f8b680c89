from django.contrib import admin

from thirdway.network.models import Absence, Partner, Practice
from thirdway.web.admin import ReadOnlyAdmin


@admin.register(Practice)
class PracticeAdmin(ReadOnlyAdmin):
    list_display = ["name", "lead"]


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "region", "town", "time_zone", "capacity", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["name", "email", "town"]


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    list_display = ["partner", "kind", "starts_at", "ends_at"]
    list_filter = ["kind"]
