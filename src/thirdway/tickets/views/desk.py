"""What the desk's pages share: the network-only gate, active partners, form errors and
message levels."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest

from thirdway.network.models import Partner


def _require_staff(request: HttpRequest) -> None:
    """The desk is for the network; to anyone else it does not exist."""
    if not request.user.is_network_staff:
        raise Http404


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
