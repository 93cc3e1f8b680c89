"""Ticket and alert events for webhooks: recorded as deliveries in the transaction that caused
them, and sent by the worker after commit, so a rolled-back change never announces itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from thirdway import configcache

EVENTS = (
    "ticket.created",
    "ticket.replied",
    "ticket.noted",
    "ticket.assigned",
    "ticket.status_changed",
    "ticket.priority_changed",
    "ticket.updated",
    "ticket.merged",
    "ticket.sla_escalated",
)
# Announced by monitoring (a room above) through announce(): an alert opened, changed
# severity, recovered.
ALERT_EVENTS = ("alert.opened", "alert.updated", "alert.resolved")
ALL_EVENTS = EVENTS + ALERT_EVENTS
# Internal notes stay inside the network: a webhook never carries their text.
PUBLIC_BODY_EVENTS = {"ticket.created", "ticket.replied"}


def payload(event: str, ticket, article=None) -> dict:
    data = {
        "event": event,
        "ticket": {
            "id": ticket.pk,
            "number": ticket.number,
            "subject": ticket.subject,
            "client_id": ticket.client_id,
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee_id": ticket.assignee_id,
            "practice_id": ticket.practice_id,
            "updated_at": ticket.updated_at.isoformat() if ticket.updated_at else None,
        },
    }
    if article is not None and event in PUBLIC_BODY_EVENTS and article.kind == "reply":
        data["article"] = {"id": article.pk, "kind": article.kind, "body_text": article.body_text}
    return data


@dataclass
class Origin:
    """What caused a change, when it is a message someone sent: passed by the room that
    received it (mail) to the ticket services, and by them to whoever hears the event, so that
    an answer can thread under it and automatic mail is never answered automatically."""

    message_id: str = ""  # the Message-ID an answer refers to (In-Reply-To)
    answerable: bool = True  # False for automatic mail (auto-replies, bulk, lists)
    reply_to: str = ""  # the address it came to, where answers should go
    opened: Any = None  # the first article of the ticket it opened (set by create_ticket)


NO_ORIGIN = Origin()
Listener = Callable[[str, Any, Any, Origin], None]

# Rooms above tickets (mail) hear events through callbacks they register at start-up, so
# tickets imports none of them.  A listener runs inside the transaction that caused the event.
_LISTENERS: list[Listener] = []


def listen(callback: Listener) -> None:
    if callback not in _LISTENERS:
        _LISTENERS.append(callback)


def emit(event: str, ticket, article=None, origin: Origin | None = None) -> None:
    """Record the event's webhook deliveries and tell the listeners, with what caused it."""
    from thirdway.tickets.models import WebhookDelivery
    from thirdway.tickets.webhooks.tasks import deliver_webhook

    body = None
    for hook_id, events, client_id in _active_hooks():
        if (events and event not in events) or client_id not in (None, ticket.client_id):
            continue
        body = body or payload(event, ticket, article)
        delivery = WebhookDelivery.objects.create(webhook_id=hook_id, event=event, payload=body)
        transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.enqueue(pk))
    for callback in _LISTENERS:
        callback(event, ticket, article, origin or NO_ORIGIN)


def announce(event: str, client_id: int, body: dict) -> int:
    """Record the deliveries of an event that is not a ticket's (an alert's) to every active
    webhook that wants it; sent by the worker after commit. The number recorded."""
    from thirdway.tickets.models import WebhookDelivery
    from thirdway.tickets.webhooks.tasks import deliver_webhook

    recorded = 0
    for hook_id, events, hook_client in _active_hooks():
        if (events and event not in events) or hook_client not in (None, client_id):
            continue
        delivery = WebhookDelivery.objects.create(webhook_id=hook_id, event=event, payload=body)
        transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.enqueue(pk))
        recorded += 1
    return recorded


def _active_hooks() -> list[tuple[int, tuple[str, ...], int | None]]:
    """(id, events, client id) of each active webhook, from the configuration cache."""
    from thirdway.tickets.models import Webhook

    def load():
        rows = Webhook.objects.filter(is_active=True).order_by("pk")
        return [
            (pk, tuple(events or ()), client)
            for pk, events, client in rows.values_list("pk", "events", "client_id")
        ]

    return configcache.get(("tickets.webhooks",), load)
