"""Background work of the service desk: webhook deliveries with retries and backoff."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.utils import timezone
from django_tasks import task

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
    """Send one delivery; on failure schedule the next attempt (idempotent per attempt)."""
    from thirdway.tickets.models import DeliveryStatus, WebhookDelivery
    from thirdway.tickets.outbound import build_headers, deliver

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
            return "nothing to do"
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
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
    elif result.refused or delivery.attempts > len(BACKOFF):
        # A refused target stays refused: retrying would only knock on the same door.
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + BACKOFF[delivery.attempts - 1]
        transaction.on_commit(
            lambda: deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
        )
    delivery.save()
    return delivery.status
