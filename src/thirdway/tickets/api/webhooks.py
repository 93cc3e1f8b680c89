"""API of webhooks: practice admins manage them and read their deliveries."""

import datetime as dt
import secrets
from typing import Literal
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from thirdway.audit.models import Source
from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.models import Client
from thirdway.tickets.api.finding import _invalid, _visible
from thirdway.tickets.idempotency import idempotent
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks import events

router = Router()

EventName = Literal[events.EVENTS]


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    client_id: int | None
    allow_private_target: bool
    is_active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown once: keep it to verify X-Thirdway-Signature.")


class WebhookIn(Schema, extra="forbid"):
    name: str = Field(min_length=1, max_length=100)
    url: str
    events: list[EventName] = Field([], description="Empty: every event.")
    client: int | None = None
    allow_private_target: bool = False
    is_active: bool = True


class WebhookPatch(Schema, extra="forbid"):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = None
    events: list[EventName] | None = None
    client: int | None = None
    allow_private_target: bool | None = None
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: int
    event: str
    payload: dict
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


WEBHOOK_FIELDS = ["name", "url", "events", "client", "allow_private_target", "is_active"]


def _require_admin(user) -> None:
    if not user.is_practice_admin:
        raise PermissionDenied("Only practice admins manage webhooks.")


def _webhook(request, webhook_id: int) -> Webhook:
    """A webhook by id: outside a practice admin's reach it does not exist (404)."""
    if not request.auth.is_practice_admin:
        raise Http404
    return get_object_or_404(Webhook, pk=webhook_id)


def _webhook_data(user, data: dict) -> dict:
    if data.get("allow_private_target") and not user.is_practice_admin:
        raise PermissionDenied("Only a practice admin may allow a private target.")
    if data.get("url") is not None and urlsplit(data["url"]).scheme not in ("http", "https"):
        raise _invalid("url", "A webhook URL must be http or https.", "an http(s):// URL")
    if "client" in data:
        data["client"] = _visible(user, Client, "client", data["client"])
    if "events" in data and data["events"] is not None:
        data["events"] = sorted(set(data["events"]))
    return data


def _save_webhook(user, hook: Webhook, data: dict, action: str) -> Webhook:
    """Validate, save and record a webhook (never its secret).

    The schema checks ``events`` (an empty list, meaning every event, is allowed), so the
    model's own check of that field, which would refuse the empty list, is left out.
    """
    nulls = sorted(name for name, value in data.items() if value is None and name != "client")
    if nulls:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be null.",
                    params={"allowed": "a value; leave the field out to keep it as it is"},
                )
                for name in nulls
            }
        )
    before = snapshot(hook, WEBHOOK_FIELDS) if hook.pk else {}
    for name, value in data.items():
        setattr(hook, name, value)
    hook.full_clean(exclude=["events"])
    changes = diff(before, snapshot(hook, WEBHOOK_FIELDS))
    if changes or not before:
        with transaction.atomic():
            hook.save()
            record(user, action, hook, source=Source.API, changes=changes)
    return hook


@router.get("/webhooks", response=list[WebhookOut])
@paginate(LimitOffsetPagination)
def list_webhooks(request):
    _require_admin(request.auth)
    return Webhook.objects.order_by("id")


@router.post("/webhooks", response={201: WebhookCreated})
@idempotent
def create_webhook(request, payload: WebhookIn):
    """A URL told about ticket events, signed with a secret shown only in this answer."""
    user = request.auth
    _require_admin(user)
    data = _webhook_data(user, payload.model_dump())
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = _save_webhook(user, Webhook(secret=secret, created_by=user), data, "webhook.create")
    return Status(201, hook)


@router.patch("/webhooks/{int:webhook_id}", response=WebhookOut)
def update_webhook(request, webhook_id: int, payload: WebhookPatch):
    hook = _webhook(request, webhook_id)
    data = _webhook_data(request.auth, payload.model_dump(exclude_unset=True))
    _save_webhook(request.auth, hook, data, "webhook.update")
    return hook


@router.delete("/webhooks/{int:webhook_id}", response={204: None})
def delete_webhook(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    with transaction.atomic():
        record(request.auth, "webhook.delete", hook, source=Source.API)
        hook.delete()
    return Status(204, None)


@router.get("/webhooks/{int:webhook_id}/deliveries", response=list[DeliveryOut])
@paginate(LimitOffsetPagination)
def list_deliveries(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    return WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-id")
