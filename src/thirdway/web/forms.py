"""Helpers shared by the server-rendered forms of every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, each message under its own field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        for item in errors:
            message = item.message % item.params if item.params else item.message
            allowed = (item.params or {}).get("allowed")
            text = f"{message} Allowed: {allowed}." if allowed else message
            form.add_error(target, text if target else f"{field}: {text}")
