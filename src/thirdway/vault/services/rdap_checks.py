"""Domain expiry dates from RDAP for the expirations register: "check now" and the clock's
daily job.  The lookup itself is ``vault.rdap``; IANA's bootstrap list is kept in the cache
for ``THIRDWAY_RDAP_BOOTSTRAP_HOURS``."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid
from thirdway.vault import rdap
from thirdway.vault.models import ExpiryItem, ExpiryKind, RdapState
from thirdway.vault.services._shared import require_keeper, scope

log = logging.getLogger(__name__)
FIELDS = ["expires_on", "rdap_state", "rdap_message"]
RECHECK_AFTER = dt.timedelta(hours=20)
MAX_PER_RUN = 500
UNKNOWN = "RDAP gives no expiry date for this domain: enter it by hand."


def _allowed() -> frozenset[str]:
    return frozenset(settings.VAULT_RDAP_ALLOWED_HOSTS)


def bootstrap() -> dict:
    """IANA's list of RDAP services per TLD, from the cache or fetched again."""
    url = settings.VAULT_RDAP_BOOTSTRAP_URL
    key = f"vault.rdap.bootstrap:{url}"
    found = cache.get(key)
    if found is None:
        found = rdap.get_json(url, allowed=_allowed(), timeout=settings.VAULT_RDAP_TIMEOUT)
        if not isinstance(found.get("services"), list):
            raise rdap.RdapError("The RDAP bootstrap list has no services.")
        cache.set(key, found, settings.VAULT_RDAP_BOOTSTRAP_HOURS * 3600)
    return found


def _look_up(item: ExpiryItem) -> tuple[str, dt.date | None, str]:
    try:
        found = rdap.lookup(
            item.name, bootstrap=bootstrap, allowed=_allowed(), timeout=settings.VAULT_RDAP_TIMEOUT
        )
    except rdap.RdapError as error:
        return RdapState.FAILED, None, str(error)[:300]
    if found.expires_on is None:
        return RdapState.UNKNOWN, None, f"{UNKNOWN} (asked {found.source})"[:300]
    return RdapState.FOUND, found.expires_on, f"From {found.source}."[:300]


def check_domain(actor, item: ExpiryItem, *, source: str) -> ExpiryItem:
    """Ask RDAP for the domain's expiry date; a date found replaces the one entered (a new
    date is a renewal: its reminders start again).  No date, or a failure, keeps the date."""
    require_keeper(actor, item.client)
    if item.kind != ExpiryKind.DOMAIN:
        raise invalid("kind", "Only a domain has an RDAP date.", "an item of kind domain")
    state, expires_on, message = _look_up(item)
    with transaction.atomic():
        locked = ExpiryItem.objects.select_for_update().get(pk=item.pk)
        before = snapshot(locked, FIELDS)
        locked.rdap_state, locked.rdap_message = state, message
        locked.rdap_checked_at = timezone.now()
        if expires_on is not None:
            locked.expires_on = expires_on
        locked.save(update_fields=["rdap_state", "rdap_message", "rdap_checked_at", "expires_on"])
        changes = diff(before, snapshot(locked, FIELDS))
        record(
            actor, "expiry.rdap", locked, source=source, scope=scope(locked.client), changes=changes
        )
    return locked


def check_due_domains(now: dt.datetime | None = None) -> int:
    """The clock's daily job: each domain not checked for a day (at most MAX_PER_RUN)."""
    from thirdway.audit.models import Source

    now = now or timezone.now()
    due = ExpiryItem.objects.filter(kind=ExpiryKind.DOMAIN).filter(
        Q(rdap_checked_at=None) | Q(rdap_checked_at__lt=now - RECHECK_AFTER)
    )
    done = 0
    for item in due.select_related("client").order_by("rdap_checked_at", "pk")[:MAX_PER_RUN]:
        check_domain(None, item, source=Source.SYSTEM)
        done += 1
    return done
