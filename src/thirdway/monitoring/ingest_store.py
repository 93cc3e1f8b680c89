"""What agents' check-ins write, in as few statements as the promises allow.

- **Last seen** is kept in this process's memory (``seen_later``) and written for every agent
  seen meanwhile by a periodic flush (``FLUSH_SECONDS``, default 5 s) in a few multi-row
  UPDATEs; an agent's *last seen* in the database may lag by that much (and by what a worker
  killed outright had not flushed yet: the next heartbeat, 60 s later, writes it again).
- **A results batch** is committed before it is acknowledged: which of the checks it names are
  the agent's is read in one query (their ids), then the batch row (with what was accepted and
  refused) and the results, *pending*, are inserted in one transaction, one INSERT each, shared
  by the batches a threaded process answers at the same moment (``ingest_writer``); the batch
  id is unique per agent, so a batch sent again is recognised and nothing is stored twice.
  The alert engine runs after the answer, in the task worker (``pending_results``); with
  ``AGENT_EVALUATE_INLINE`` the checks are locked and each result evaluated in the
  request, before the commit, as it was first built.
- **Pruning**: results and batch ids older than ``MONITORING_RETENTION_DAYS`` are deleted by a
  periodic job, a bounded number of rows per statement.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from thirdway.monitoring import ingest_writer, pending_results
from thirdway.monitoring.models import (
    AGENT_KINDS,
    Agent,
    AgentBatch,
    AlertStatus,
    Check,
    CheckEvent,
    CheckResult,
    IntakeDelivery,
)

if TYPE_CHECKING:
    from thirdway.monitoring.ingest import AgentKey

logger = logging.getLogger(__name__)
# A collection time this far ahead of the server's clock is refused (server time wins).
AHEAD_LIMIT = dt.timedelta(minutes=5)
NOT_OWNED = ingest_writer.NOT_OWNED
IN_FUTURE = "Collected in the future by the server's clock: set the machine's clock."
PRUNE_CHUNK = 5_000


# --- last seen ---------------------------------------------------------------------------------


class SeenBuffer:
    """Agents seen since the last flush, by id: (when, skew, (buffered, dropped)); the latest
    wins, and a heartbeat's skew and buffer are kept over a results batch's bare sighting."""

    # Off in tests, which flush when they mean to (a thread of its own has its own connection).
    flush_in_background = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[dt.datetime, float | None, tuple[int, int] | None]] = {}
        self._flusher_pid = 0

    def note(
        self,
        agent_id: int,
        now: dt.datetime,
        skew: float | None = None,
        buffer: tuple[int, int] | None = None,
    ) -> None:
        with self._lock:
            before = self._pending.get(agent_id)
            if before is not None:
                skew = skew if skew is not None else before[1]
                buffer = buffer if buffer is not None else before[2]
            self._pending[agent_id] = (now, skew, buffer)
        if self.flush_in_background and self._flusher_pid != os.getpid():
            self._start_flusher()

    def __len__(self) -> int:
        return len(self._pending)

    def discard(self) -> None:
        with self._lock:
            self._pending.clear()

    def flush(self) -> int:
        """Write every pending sighting (a few UPDATEs); how many agents were written."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            _write_seen(pending)
        except Exception:
            logger.exception(
                "Last seen of %d agents not written; kept for the next flush", len(pending)
            )
            with self._lock:
                for agent_id, entry in pending.items():
                    self._pending.setdefault(agent_id, entry)
            raise
        return len(pending)

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_pid == os.getpid():
                return
            self._flusher_pid = os.getpid()
        thread = threading.Thread(target=self._flush_forever, name="last-seen", daemon=True)
        thread.start()

    def _flush_forever(self) -> None:
        from django.db import connection

        stop = threading.Event()
        while not stop.wait(settings.AGENT_SEEN_FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:
                connection.close()


def _write_seen(pending: dict) -> None:
    """One UPDATE per agent, sent together (``executemany``) in one transaction: cheaper than
    building a CASE expression per column through the ORM."""
    ops = connection.ops
    table = ops.quote_name(Agent._meta.db_table)
    rows: dict[tuple[str, ...], list[list]] = {}
    for agent_id, (at, skew, buffer) in pending.items():
        fields, values = ["last_seen_at"], [ops.adapt_datetimefield_value(at)]
        if skew is not None:
            fields.append("last_skew_seconds")
            values.append(round(skew, 3))
        if buffer is not None:
            fields += ["results_buffered", "results_dropped"]
            values += list(buffer)
        rows.setdefault(tuple(fields), []).append([*values, agent_id])
    with transaction.atomic(), connection.cursor() as cursor:
        for fields, values in rows.items():
            sets = ", ".join(f"{ops.quote_name(field)} = %s" for field in fields)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", values)  # noqa: S608


seen_later = SeenBuffer()


@atexit.register
def _flush_at_exit() -> None:
    try:
        seen_later.flush()
    except Exception:
        return


# --- results -----------------------------------------------------------------------------------


def store_batch(
    agent: Agent | AgentKey, batch_id: str, results: list[dict]
) -> tuple[ingest_writer.StoredBatch, bool]:
    """Store one batch of ``agent`` (the model, or the lean path's key: its ``pk`` is what is
    used); (the batch, True if it had been received before).  When this returns,
    the batch and its results are committed, pending: the task worker evaluates them
    (``pending_results``), or this did already with ``AGENT_EVALUATE_INLINE``.  The caller
    notes that the agent was seen."""
    if settings.AGENT_EVALUATE_INLINE:
        return _store_evaluated(agent, batch_id, results)
    now = timezone.now()
    kept, refused = _sorted_out(results, now)
    job = ingest_writer.Job(agent.pk, batch_id, kept, refused, now)
    return ingest_writer.writer.store(job)


def _sorted_out(results: list[dict], now: dt.datetime) -> tuple[list[dict], list[dict]]:
    """The results kept so far (in collection order, each with its ``index`` in the batch) and
    the refusals of results collected in the future; whose checks they are is read when they
    are written (``ingest_writer``)."""
    order = sorted(enumerate(results), key=lambda pair: pair[1]["collected_at"])
    kept, refused = [], []
    for index, result in order:
        if result["collected_at"] > now + AHEAD_LIMIT:
            refused.append(ingest_writer.refusal(index, result["check_id"], IN_FUTURE))
        else:
            kept.append({**result, "index": index})
    return kept, refused


def _store_evaluated(
    agent: Agent | AgentKey, batch_id: str, results: list[dict]
) -> tuple[ingest_writer.StoredBatch, bool]:
    """Store and evaluate one batch in one transaction, before the answer (the checks named
    locked in one query, each result evaluated at its collection time in that order)."""
    now = timezone.now()
    ids = {result["check_id"] for result in results}
    try:
        with transaction.atomic():
            checks = _locked_checks(agent.pk, ids)
            kept, refused = _sorted_out(results, now)
            refused += [
                ingest_writer.refusal(result["index"], result["check_id"], NOT_OWNED)
                for result in kept
                if result["check_id"] not in checks
            ]
            refused.sort(key=lambda item: item["index"])
            kept = [result for result in kept if result["check_id"] in checks]
            batch = AgentBatch.objects.create(
                agent_id=agent.pk, batch_id=batch_id, accepted=len(kept), refused=refused
            )
            rows = [
                _evaluated_row(agent, checks[result["check_id"]], result, now) for result in kept
            ]
            CheckResult.objects.bulk_create(rows, batch_size=500)
    except IntegrityError:
        stored = AgentBatch.objects.get(agent_id=agent.pk, batch_id=batch_id)
        return ingest_writer.stored_batch(stored), True
    pending_results.tell_certificates(rows)
    return ingest_writer.stored_batch(batch), False


def _locked_checks(agent_id: int, ids: set[int]) -> dict[int, Check]:
    """The agent's active checks among ``ids``, locked (in id order) for this transaction."""
    if not ids:
        return {}
    rows = (
        Check.objects.select_for_update(of=("self",))
        .select_related("parent")  # the rest is read only when an alert opens or closes
        .filter(pk__in=ids, agent_id=agent_id, kind__in=AGENT_KINDS, is_paused=False)
        .order_by("pk")
    )
    return {check.pk: check for check in rows}


def _evaluated_row(
    agent: Agent | AgentKey, check: Check, result: dict, now: dt.datetime
) -> CheckResult:
    """Run one result through the engine and the row that stores it (inserted with the
    batch's others; nothing in the evaluation reads stored results)."""
    collected = min(result["collected_at"], now)
    status, output = pending_results.judge(agent.pk, check, result, collected, now)
    return CheckResult(
        check_obj=check,
        collected_at=collected,
        status=status,
        value=result.get("value"),
        output=output,
    )


# --- pruning -----------------------------------------------------------------------------------


def prune(now: dt.datetime | None = None, days: int | None = None) -> dict[str, int]:
    """Delete results, batch ids, timeline events and Alertmanager bodies older than the
    retention (``MONITORING_RETENTION_DAYS``), ``PRUNE_CHUNK`` rows per statement; how many of
    each were deleted.  An event of an alert still open is kept (its opening explains it), and
    so is a body not processed yet (the sweep processes it)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days or settings.MONITORING_RETENTION_DAYS)
    old_events = CheckEvent.objects.filter(at__lt=cutoff).exclude(alert__status=AlertStatus.OPEN)
    old_bodies = IntakeDelivery.objects.filter(received_at__lt=cutoff, processed_at__isnull=False)
    return {
        "results": _delete_before(CheckResult.objects.filter(collected_at__lt=cutoff)),
        "batches": _delete_before(AgentBatch.objects.filter(received_at__lt=cutoff)),
        "events": _delete_before(old_events),
        "webhook_bodies": _delete_before(old_bodies),
    }


def _delete_before(rows) -> int:
    deleted = 0
    while True:
        ids = list(rows.order_by().values_list("pk", flat=True)[:PRUNE_CHUNK])
        if not ids:
            return deleted
        deleted += rows.model.objects.filter(pk__in=ids).delete()[0]
