"""API of webhooks: practice admins manage them and read their deliveries."""

import datetime as dt
from typing import Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.errors import require_admin
from thirdway.payloads import Id, Page, Payload, kept
from thirdway.tickets.idempotency import idempotent
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks import events, services

router = Router()

EventName = Literal[events.ALL_EVENTS]
FormatName = Literal["thirdway", "standard"]


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    client_id: int | None
    format: FormatName
    allow_private_target: bool
    is_active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Shown once: keep it to verify X-Thirdway-Signature or webhook-signature."
    )


class WebhookUpdated(WebhookOut):
    secret: str | None = Field(
        None,
        description="Only when the change made a new secret (a webhook switched to Standard "
        "Webhooks whose secret predates the whsec_<base64> form); shown once.",
    )


class WebhookIn(Payload, extra="forbid"):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(max_length=500)
    events: list[EventName] = Field(
        [], max_length=len(events.ALL_EVENTS), description="Empty: every event."
    )
    client: Id | None = None
    format: FormatName = Field(
        "thirdway",
        description="thirdway: X-Thirdway-Signature; standard: the Standard Webhooks headers "
        "(webhook-id, webhook-timestamp, webhook-signature).",
    )
    allow_private_target: bool = False
    is_active: bool = True


class WebhookPatch(Payload, extra="forbid"):
    name: str = kept(min_length=1, max_length=100)
    url: str = kept(max_length=500)
    events: list[EventName] = kept(max_length=len(events.ALL_EVENTS))
    client: Id | None = None
    format: FormatName = kept()
    allow_private_target: bool = kept()
    is_active: bool = kept()


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


def _webhook(request, webhook_id: int) -> Webhook:
    """A webhook by id: outside a practice admin's reach it does not exist (404)."""
    if not request.auth.is_practice_admin:
        raise Http404
    return get_object_or_404(Webhook, pk=webhook_id)


@router.get("/webhooks", response=list[WebhookOut])
@paginate(Page)
def list_webhooks(request):
    require_admin(request.auth, services.ADMIN_ONLY)
    return Webhook.objects.order_by("id")


@router.post("/webhooks", response={201: WebhookCreated})
@idempotent
def create_webhook(request, payload: WebhookIn):
    """A URL told about ticket events, signed with a secret shown only in this answer."""
    hook = services.create_webhook(request.auth, source=Source.API, **payload.model_dump())
    return Status(201, hook)


@router.patch("/webhooks/{int:webhook_id}", response=WebhookUpdated)
def update_webhook(request, webhook_id: int, payload: WebhookPatch):
    hook = _webhook(request, webhook_id)
    data = payload.model_dump(exclude_unset=True)
    secret = hook.secret
    hook = services.update_webhook(request.auth, hook, data, source=Source.API)
    fresh = hook.secret if hook.secret != secret else None
    return WebhookUpdated.model_validate(hook, from_attributes=True).model_copy(
        update={"secret": fresh}
    )


@router.delete("/webhooks/{int:webhook_id}", response={204: None})
def delete_webhook(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    services.delete_webhook(request.auth, hook, source=Source.API)
    return Status(204, None)


@router.get("/webhooks/{int:webhook_id}/deliveries", response=list[DeliveryOut])
@paginate(Page)
def list_deliveries(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    return WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-id")
