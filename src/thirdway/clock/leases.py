"""Sends retried with backoff (webhook deliveries, outgoing mail): claimed, settled, swept.

An attempt first claims its row for a short lease (``next_attempt_at`` moves past the send's
time limit, ``attempts`` counts up) in a transaction of its own, sends outside it, then settles
the row: done, failed for good, or due again after the next wait.  The clock's sweep enqueues
every row whose time has come, including any whose enqueue was lost, so nothing depends on a
single queued task surviving, and a second attempt started meanwhile finds the row leased.

The table needs ``status``, ``attempts``, ``next_attempt_at`` and ``created_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

LEASE = dt.timedelta(minutes=2)  # longer than one send's whole time limit
# Waits before each retry; after the last one the row is marked failed.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)
# A row made this long ago whose first attempt never started is swept up.
NEVER_STARTED = dt.timedelta(minutes=1)
SWEEP_LIMIT = 1000
NOTHING_TO_DO = "nothing to do"
NOT_DUE = "not due yet, or another attempt holds it"


@dataclass(frozen=True)
class Retried:
    """A table of sends and the statuses it moves through."""

    model: type[models.Model]
    pending: str
    retrying: str
    done: str
    failed: str
    done_at: str  # the field stamped when the send succeeds

    def claim(
        self,
        pk: int,
        *,
        related: tuple[str, ...] = (),
        refuse: Callable[[Any], str] | None = None,
    ) -> tuple[Any, str]:
        """(the row, "") when this attempt may send it now; else (None, why not).

        ``refuse`` names a reason the row must fail without being sent (or "" to send it)."""
        with transaction.atomic():
            rows = self.model._default_manager.select_for_update().select_related(*related)
            row: Any = rows.filter(pk=pk).first()
            if row is None or row.status not in (self.pending, self.retrying):
                return None, NOTHING_TO_DO
            now = timezone.now()
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                return None, NOT_DUE
            reason = refuse(row) if refuse is not None else ""
            if reason:
                row.status, row.next_attempt_at, row.last_error = self.failed, None, reason
                row.save(update_fields=["status", "next_attempt_at", "last_error"])
                return None, row.status
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            row.save(update_fields=["attempts", "next_attempt_at"])
        return row, ""

    def settle(self, row: Any, *, sent: bool, give_up: bool = False) -> str:
        """Record an attempt's outcome: done, failed (``give_up`` or no retries left), or due
        again after the next wait.  Saves the whole row (the caller's fields too)."""
        if sent:
            row.status, row.next_attempt_at = self.done, None
            setattr(row, self.done_at, timezone.now())
        elif give_up or row.attempts > len(BACKOFF):
            row.status, row.next_attempt_at = self.failed, None
        else:
            row.status = self.retrying
            row.next_attempt_at = timezone.now() + BACKOFF[row.attempts - 1]
        row.save()
        return str(row.status)

    def due(self, now: dt.datetime | None = None) -> models.QuerySet[Any]:
        """Rows whose next attempt is due, or whose first never started."""
        now = now or timezone.now()
        return self.model._default_manager.filter(status__in=[self.pending, self.retrying]).filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - NEVER_STARTED)
        )

    def sweep(self, send: Any) -> int:
        """The clock's sweep: enqueue ``send`` (a task taking the row's id) for each due row."""
        due = list(self.due().values_list("pk", flat=True)[:SWEEP_LIMIT])
        for pk in due:
            send.enqueue(pk)
        return len(due)
