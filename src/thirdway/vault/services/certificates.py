"""TLS certificates read by monitoring's checks, kept in the expirations register.

Monitoring tells ``clients.certificates.certificate_seen`` (the vault registers this module's
:func:`take_certificate` there at start-up); each client has one certificate item per
host:port.  The first sighting adopts an item entered by hand under the host's name, or makes
one; later sightings move its date (a renewal starts the reminders again) and refresh its
subject and issuer.  A date worked out from a rounded number of days (an agent's LAN check)
moves the item only when it differs by more than a day, so rounding never rewrites it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.certificates import SeenCertificate
from thirdway.clients.models import Client
from thirdway.vault.models import ExpiryItem, ExpiryKind
from thirdway.vault.services._shared import scope

KEPT = ["name", "expires_on", "endpoint", "subject", "issuer"]
# How often a sighting with nothing new writes its time.
SEEN_EVERY = dt.timedelta(hours=1)


def _find(client_id: int, seen: SeenCertificate) -> ExpiryItem | None:
    rows = ExpiryItem.objects.select_for_update()
    item = rows.filter(client_id=client_id, endpoint=seen.endpoint).first()
    if item is not None:
        return item
    host = seen.host.strip().lower()
    names = {host, seen.endpoint}
    for candidate in rows.filter(client_id=client_id, kind=ExpiryKind.CERTIFICATE, endpoint=""):
        if candidate.name.strip().lower() in names:
            return candidate
    return None


def _make(client: Client, seen: SeenCertificate, source: str, now: dt.datetime) -> ExpiryItem:
    item = ExpiryItem(
        client=client,
        kind=ExpiryKind.CERTIFICATE,
        name=seen.endpoint[:200],
        expires_on=seen.not_after.date(),
        endpoint=seen.endpoint,
        subject=seen.subject[:300],
        issuer=seen.issuer[:300],
        seen_at=now,
        notes=f"Read by monitoring ({source}).",
    )
    item.save()
    record(
        None,
        "expiry.create",
        item,
        source=Source.SYSTEM,
        scope=scope(client),
        changes=diff({}, snapshot(item, KEPT)),
    )
    return item


def take_certificate(client_id: int, seen: SeenCertificate, source: str) -> ExpiryItem | None:
    """Make or bring up to date the client's item for this certificate's host:port."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        item = _find(client_id, seen)
        if item is None:
            try:
                with transaction.atomic():
                    return _make(client, seen, source, now)
            except IntegrityError:  # another check of the same endpoint made it meanwhile
                item = _find(client_id, seen)
                if item is None:
                    raise
        before = snapshot(item, KEPT)
        expires_on = seen.not_after.date()
        if seen.exact or abs((expires_on - item.expires_on).days) > 1:
            item.expires_on = expires_on
        item.endpoint = seen.endpoint
        item.subject = seen.subject[:300] or item.subject
        item.issuer = seen.issuer[:300] or item.issuer
        changes = diff(before, snapshot(item, KEPT))
        if not changes and item.seen_at and now - item.seen_at < SEEN_EVERY:
            return item
        item.seen_at = now
        item.save()
        if changes:
            record(
                None,
                "expiry.certificate",
                item,
                source=Source.SYSTEM,
                scope=scope(client),
                changes=changes,
            )
    return item
