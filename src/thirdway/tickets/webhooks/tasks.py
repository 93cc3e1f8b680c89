"""Webhook deliveries with retries and backoff.

An attempt first claims its delivery for a short lease (``next_attempt_at`` moves past the
send's time limit), sends, then records the outcome and when to try again.  The clock's sweep
enqueues every delivery whose time has come, including any whose enqueue was lost, so no
delivery depends on a single queued task surviving (``thirdway.clock.leases``, shared with the
mail outbox).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache

from django_tasks import task

from thirdway.clock.leases import BACKOFF, Retried

__all__ = ["BACKOFF", "deliver_webhook", "due_deliveries", "retry_due_webhooks"]


@cache
def deliveries() -> Retried:
    """The deliveries table as a table of retried sends (models are read when first needed)."""
    from thirdway.tickets.models import DeliveryStatus, WebhookDelivery

    return Retried(
        WebhookDelivery,
        pending=DeliveryStatus.PENDING,
        retrying=DeliveryStatus.RETRYING,
        done=DeliveryStatus.DELIVERED,
        failed=DeliveryStatus.FAILED,
        done_at="delivered_at",
    )


def _switched_off(delivery) -> str:
    """Switched off after the event (or while its retries waited): nothing is sent."""
    if delivery.webhook.is_active:
        return ""
    return "The webhook was deactivated; nothing was sent."


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one delivery if it is due and not claimed by another attempt."""
    from thirdway.tickets.webhooks.guard import allowance_of
    from thirdway.tickets.webhooks.outbound import deliver

    delivery, why_not = deliveries().claim(delivery_id, related=("webhook",), refuse=_switched_off)
    if delivery is None:
        return why_not
    hook = delivery.webhook
    body, headers = signed(delivery)
    # The allowance is for the host and port the admin approved, as written in the webhook's
    # URL (no port written: the scheme's default); a redirect elsewhere is checked anew.
    allowed = frozenset({allowance_of(hook.url)}) if hook.allow_private_target else frozenset()
    result = deliver(hook.url, body, headers, allowed_hosts=allowed)
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error or ""
    # A refused target stays refused: retrying would only knock on the same door.
    return deliveries().settle(delivery, sent=result.ok, give_up=result.refused)


def signed(delivery) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery in its webhook's format.

    Standard Webhooks: the body is ``{"type", "timestamp", "data"}`` (the event, when it
    happened, the payload) and the message id ``msg_<delivery id>`` is kept across retries.
    """
    from thirdway.tickets.webhooks.models import WebhookFormat
    from thirdway.tickets.webhooks.outbound import build_headers, standard_headers

    hook = delivery.webhook
    if hook.format == WebhookFormat.STANDARD:
        envelope = {
            "type": delivery.event,
            "timestamp": delivery.created_at.isoformat(),
            "data": delivery.payload,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        message_id = f"msg_{delivery.pk}"
        return body, standard_headers(body, secret=hook.secret, message_id=message_id)
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    return body, build_headers(
        body, secret=hook.secret, event=delivery.event, delivery_id=str(delivery.pk)
    )


def due_deliveries(now: dt.datetime | None = None):
    """Deliveries whose next attempt is due (or never started a minute after being made)."""
    return deliveries().due(now)


@task()
def retry_due_webhooks() -> int:
    """The clock's sweep: enqueue every delivery that is due."""
    return deliveries().sweep(deliver_webhook)
