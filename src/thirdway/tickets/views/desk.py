"""What the desk's pages share: the network-only gate, active partners, form errors and
message levels."""

from __future__ import annotations

from django import forms
from django.contrib import messages

from thirdway.network.models import Partner
from thirdway.web.pages import require_staff as _require_staff  # noqa: F401 (the desk views import it from here)


def _active_partners(user):
    return Partner.objects.for_user(user).filter(is_active=True).order_by("name")


def _form_errors(form: forms.Form) -> list[str]:
    texts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label or field if field in form.fields else ""
        for error in errors:
            texts.append(f"{str(label).capitalize()}: {error}" if label else error)
    return texts


_LEVELS = {"success": messages.SUCCESS, "error": messages.ERROR, "info": messages.INFO}
