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


def service_texts(error: ValidationError) -> list[str]:
    """The texts of a service's refusal as forms show them: the problem, then what is allowed."""
    texts = []
    for item in (
        error.error_list
        if not hasattr(error, "error_dict")
        else [item for items in error.error_dict.values() for item in items]
    ):
        message = item.message % item.params if item.params else item.message
        allowed = (item.params or {}).get("allowed")
        texts.append(f"{message} Allowed: {allowed}." if allowed else message)
    return texts


def add_service_errors_to(form: forms.Form, field: str, error: ValidationError) -> None:
    """Show every message of a service's refusal under one field of the form (when the
    service names a field the form spells differently)."""
    for text in service_texts(error):
        form.add_error(field, text)
