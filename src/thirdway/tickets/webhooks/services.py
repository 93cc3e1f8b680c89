"""The writers of webhooks: practice admins add, change and remove them; each act is recorded
(never the secret)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from thirdway.access import find_visible, visible
from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.models import Client
from thirdway.errors import invalid, refuse_nulls, require_admin
from thirdway.tickets.webhooks.models import Webhook, WebhookDelivery, WebhookFormat
from thirdway.tickets.webhooks.outbound import standard_key, standard_secret

WEBHOOK_FIELDS = [
    "name",
    "url",
    "events",
    "client",
    "format",
    "allow_private_target",
    "is_active",
]
ADMIN_ONLY = "Only practice admins manage webhooks."


def create_webhook(actor, *, source: str, **data) -> Webhook:
    """A URL told about ticket and alert events, with a new signing secret (kept on the row,
    shown to the admin once by the caller). The secret is in the Standard Webhooks form
    (``whsec_<base64>``), so either format can sign with it."""
    require_admin(actor, ADMIN_ONLY)
    hook = Webhook(secret=standard_secret(), created_by=actor)
    return _save(actor, hook, _cleaned(actor, data), "webhook.create", source)


def update_webhook(actor, hook: Webhook, data: dict, *, source: str) -> Webhook:
    """Change the fields given in ``data``; a field given as None (but ``client``) is refused.

    Switching to Standard Webhooks a webhook whose secret is not in its ``whsec_<base64>``
    form (made before that form) gives it a new secret: the caller sees that ``secret``
    changed and shows the new one once."""
    require_admin(actor, ADMIN_ONLY)
    return _save(actor, hook, _cleaned(actor, data), "webhook.update", source)


@transaction.atomic
def delete_webhook(actor, hook: Webhook, *, source: str) -> None:
    require_admin(actor, ADMIN_ONLY)
    record(actor, "webhook.delete", hook, source=source)
    hook.delete()


TEST_EVENT = "webhook.test"


@transaction.atomic
def send_test(actor, hook: Webhook, *, source: str) -> WebhookDelivery:
    """Queue a test delivery to the webhook: signed and sent by the worker like any event,
    retried like any event, and listed with its deliveries."""
    from thirdway.tickets.webhooks.tasks import deliver_webhook

    require_admin(actor, ADMIN_ONLY)
    if not hook.is_active:
        raise invalid(
            "is_active", "The webhook is switched off: nothing would be sent.", "an active webhook"
        )
    payload = {
        "event": TEST_EVENT,
        "webhook": {"id": hook.pk, "name": hook.name},
        "sent_at": timezone.now().isoformat(),
    }
    delivery = WebhookDelivery.objects.create(webhook=hook, event=TEST_EVENT, payload=payload)
    record(actor, "webhook.test", hook, source=source, changes={"delivery": [None, delivery.pk]})
    transaction.on_commit(lambda: deliver_webhook.enqueue(delivery.pk))
    return delivery


def _cleaned(actor, data: dict) -> dict:
    data = dict(data)
    if data.get("url") is not None and urlsplit(data["url"]).scheme not in ("http", "https"):
        raise invalid("url", "A webhook URL must be http or https.", "an http(s):// URL")
    if "client" in data:
        data["client"] = find_visible(visible(Client, actor), "client", data["client"])
    if data.get("events") is not None:
        data["events"] = sorted(set(data["events"]))
    return data


def _save(actor, hook: Webhook, data: dict, action: str, source: str) -> Webhook:
    """Validate, save and record a webhook.

    The API's schema checks ``events`` (an empty list, meaning every event, is allowed), so the
    model's own check of that field, which would refuse the empty list, is left out.
    """
    refuse_nulls(name for name, value in data.items() if value is None and name != "client")
    before = snapshot(hook, WEBHOOK_FIELDS) if hook.pk else {}
    for name, value in data.items():
        setattr(hook, name, value)
    hook.full_clean(exclude=["events"])
    changes = diff(before, snapshot(hook, WEBHOOK_FIELDS))
    if hook.format == WebhookFormat.STANDARD and standard_key(hook.secret) is None:
        hook.secret = standard_secret()
        changes["secret"] = ["(kept)", "(new, shown once)"]
    if changes or not before:
        with transaction.atomic():
            hook.save()
            record(actor, action, hook, source=source, changes=changes)
    return hook
