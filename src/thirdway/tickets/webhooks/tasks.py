"""Webhook deliveries with retries and backoff.

An attempt first claims its delivery for a short lease (``next_attempt_at`` moves past the
send's time limit), sends, then records the outcome and when to try again.  The clock's sweep
enqueues every delivery whose time has come, including any whose enqueue was lost, so no
delivery depends on a single queued task surviving.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

LEASE = dt.timedelta(minutes=2)  # longer than a delivery's whole time limit
# Waits before each retry; after the last one the delivery is marked failed.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one delivery if it is due and not claimed by another attempt."""
    from thirdway.tickets.models import DeliveryStatus, WebhookDelivery
    from thirdway.tickets.webhooks.outbound import build_headers, deliver

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
            return "nothing to do"
        now = timezone.now()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not due yet, or another attempt holds it"
        if not delivery.webhook.is_active:
            # Switched off after the event (or while its retries waited): nothing is sent.
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.last_error = "The webhook was deactivated; nothing was sent."
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return delivery.status
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = build_headers(
        body, secret=hook.secret, event=delivery.event, delivery_id=str(delivery.pk)
    )
    # The allowance is for the host the admin approved, as written in the webhook's URL.
    allowed = frozenset({_host_of(hook.url)}) if hook.allow_private_target else frozenset()
    result = deliver(hook.url, body, headers, allowed_hosts=allowed)
    return _settle(delivery, result)


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def _settle(delivery, result) -> str:
    from thirdway.tickets.models import DeliveryStatus

    delivery.last_status_code = result.status_code
    delivery.last_error = result.error or ""
    if result.ok:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        delivery.next_attempt_at = None
    elif result.refused or delivery.attempts > len(BACKOFF):
        # A refused target stays refused: retrying would only knock on the same door.
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + BACKOFF[delivery.attempts - 1]
    delivery.save()
    return delivery.status


def due_deliveries(now: dt.datetime | None = None):
    """Deliveries whose next attempt is due (or never started a minute after being made)."""
    from thirdway.tickets.models import DeliveryStatus, WebhookDelivery

    now = now or timezone.now()
    waiting = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
    return WebhookDelivery.objects.filter(status__in=waiting).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - dt.timedelta(minutes=1))
    )


@task()
def retry_due_webhooks() -> int:
    """The clock's sweep: enqueue every delivery that is due."""
    due = list(due_deliveries().values_list("pk", flat=True)[:1000])
    for delivery_id in due:
        deliver_webhook.enqueue(delivery_id)
    return len(due)
