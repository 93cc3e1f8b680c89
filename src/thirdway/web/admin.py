"""Django's admin site is for practice admins to browse; changes go through the app's services.

Domain models are registered read-only so every change keeps its audit record; user accounts
can be edited here (for password resets), which Django's own admin log records.
"""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
