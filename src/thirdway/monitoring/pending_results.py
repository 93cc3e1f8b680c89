"""Agents' results after they are stored: judged by the alert engine, check by check, in order.

A results batch is committed *pending* and the agent answered (``ingest_store.store_batch``);
what the engine makes of it is decided here, afterwards, by the task worker:

- **In order per check.**  A check's pending results are taken in the order they were
  collected (then arrived), and each is evaluated at its collection time exactly as it would
  have been in the request: thresholds against the state before it, a result delivered long
  after it was collected (``LATE_AFTER``, counted from its arrival) changes the state but opens
  no alert.
- **Claimed under the check's lock.**  One transaction per check locks the check's row, reads
  its pending results, evaluates them and marks them evaluated; a second evaluator of the same
  check waits for the lock and then finds nothing left, so no result is evaluated twice and
  none before an earlier one of its check.  (SQLite has one writer at a time: the same.)
- **Triggered on commit, caught up by the sweep.**  A stored batch asks for an evaluation
  task (``evaluate_soon``), enqueued after its commit: at most two per ``WINDOW`` per web
  process, the second set to start when the window ends, so every batch has a task that
  starts after it was committed.  The clock's
  ``monitoring.sweep`` evaluates whatever is still pending (a worker that was down, a task
  that failed), so nothing acknowledged is left unevaluated.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from thirdway.clients.certificates import SeenCertificate, certificate_seen
from thirdway.monitoring.models import Agent, Check, CheckKind, CheckResult

logger = logging.getLogger(__name__)
# A result collected this long before it arrived was buffered: it is history, not news.
LATE_AFTER = dt.timedelta(minutes=5)
# Evaluation tasks asked for by one web process: at most two per this many seconds.
WINDOW = 0.2
# The most results of one check evaluated in one transaction, and per run of the task.
PER_CHECK = 1_000
PER_RUN = 5_000


# --- one result --------------------------------------------------------------------------------


def judge(
    agent_id: int, check: Check, result: dict, collected: dt.datetime, arrived: dt.datetime
) -> tuple[str, str]:
    """Run one result through the engine on a check locked by the caller (after the check's
    earlier ones: a threshold's recovery depends on the status before); the status and output
    to store with it."""
    from thirdway.monitoring import evaluation, updates
    from thirdway.monitoring.agents import status_of

    status = status_of(check, result.get("value"), result.get("status"))
    output = result.get("output") or ""
    if check.kind == CheckKind.AGENT_UPDATES:
        age = updates.note_pending(check, result.get("security_packages"), collected)
        status, output = updates.judged(check, status, output, age)
    late = ""
    if arrived - collected > LATE_AFTER:
        minutes = int((arrived - collected).total_seconds() // 60)
        late = f"collected {minutes} min before it was delivered"
    evaluation.evaluate_stored(check, status, output=output, at=collected, late=late)
    if check.kind == CheckKind.AGENT_SCRIPT and check.script_id is not None:
        from thirdway.monitoring.scripts import record_run

        record_run(Agent(pk=agent_id), check, result, str(status), collected)
    return status.value, output[:500]


def reported_of(agent_id: int, result: dict) -> dict | None:
    """What a pending result keeps for its evaluation beyond its columns (JSON)."""
    kept = {
        key: result[key] for key in ("status", "security_packages") if result.get(key) is not None
    }
    script = result.get("script")
    if script is not None:
        asked = script.get("requested_at")
        kept["script"] = {**script, "requested_at": asked.isoformat() if asked else None}
        kept["agent"] = agent_id
    return kept or None


def _as_reported(row: CheckResult) -> dict:
    """The result as the agent sent it, from its pending row."""
    kept = row.reported or {}
    result = {"value": row.value, "output": row.output, **kept}
    script = kept.get("script")
    if script is not None and script.get("requested_at"):
        asked = dt.datetime.fromisoformat(script["requested_at"])
        result["script"] = {**script, "requested_at": asked}
    return result


def tell_certificates(rows: list[CheckResult]) -> None:
    """The latest certificate each HTTPS LAN check of ``rows`` read (its days left are the
    value), told once the results are committed: a listener's trouble never loses a result."""
    latest: dict[int, CheckResult] = {}
    for row in rows:
        check = row.check_obj
        if check.kind == CheckKind.AGENT_HTTP and row.value is not None:
            latest[check.pk] = row  # rows run in collection order: the last is the latest
    for row in latest.values():
        parts = urlsplit(row.check_obj.target.strip())
        if parts.scheme != "https" or not parts.hostname:
            continue
        try:
            port = parts.port or 443
            not_after = row.collected_at + dt.timedelta(days=float(row.value))
        except (ValueError, OverflowError):
            continue
        seen = SeenCertificate(host=parts.hostname, port=port, not_after=not_after, exact=False)
        certificate_seen(row.check_obj.client_id, seen, source=f"check:{row.check_obj.pk}")


# --- a check's pending results -----------------------------------------------------------------


def evaluate_check(check_id: int, limit: int = PER_CHECK) -> int:
    """Evaluate the check's pending results in order, under its lock; how many."""
    with transaction.atomic():
        locked = Check.objects.select_for_update(of=("self",)).select_related("parent")
        found = list(locked.filter(pk=check_id).order_by())
        if not found:  # deleted meanwhile, and its results with it
            return 0
        check = found[0]
        pending = CheckResult.objects.filter(check_obj_id=check_id, pending=True)
        rows = list(pending.order_by("collected_at", "id")[:limit])
        for row in rows:
            agent_id = (row.reported or {}).get("agent") or check.agent_id
            row.check_obj = check
            row.status, row.output = judge(
                agent_id, check, _as_reported(row), row.collected_at, row.received_at
            )
        _mark_evaluated(rows)
    tell_certificates(rows)
    return len(rows)


def _mark_evaluated(rows: list[CheckResult]) -> None:
    """Each row's status and output, no longer pending: one UPDATE per row, sent together
    (cheaper than the CASE expressions of ``bulk_update``)."""
    table = connection.ops.quote_name(CheckResult._meta.db_table)
    sql = f"UPDATE {table} SET status = %s, output = %s, pending = %s, reported = NULL"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(
            sql + " WHERE id = %s", [[row.status, row.output, False, row.pk] for row in rows]
        )


def evaluate_pending(limit: int = PER_RUN) -> dict[str, int]:
    """Evaluate pending results, check by check, until none is left or ``limit`` were; a
    check whose evaluation fails is logged and left pending (the next run tries again), and
    never stops the others."""
    counts = {"evaluated": 0, "checks": 0, "failed": 0, "left": 0}
    failed: set[int] = set()
    while counts["evaluated"] < limit:
        waiting = CheckResult.objects.filter(pending=True).exclude(check_obj_id__in=failed)
        ids = list(waiting.order_by().values_list("check_obj_id", flat=True).distinct()[:200])
        if not ids:
            return counts
        random.shuffle(ids)  # several workers then mostly take different checks at once
        for check_id in ids:
            try:
                counts["evaluated"] += evaluate_check(check_id)
                counts["checks"] += 1
            except Exception:
                logger.exception(
                    "The pending results of check %s could not be evaluated.", check_id
                )
                failed.add(check_id)
                counts["failed"] += 1
    counts["left"] = int(CheckResult.objects.filter(pending=True).exists())
    return counts


def catch_up() -> dict[str, int]:
    """The sweep's share: evaluate what is still pending; more than one run's worth is left to
    the task, enqueued at once."""
    counts = evaluate_pending()
    if counts["left"]:
        _enqueue(None)
    return counts


# --- asking the worker -------------------------------------------------------------------------


class Trigger:
    """Evaluation tasks asked for by one process: the first batch after a quiet ``WINDOW``
    asks for one at once; the batches committed within the window after it share one more,
    set to start when the window ends (so after each of them).  At most two a window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0  # the end of the current window (monotonic)
        self._followed = False  # a task is set to start at its end

    def pull(self) -> None:
        from django_tasks import default_task_backend

        if not default_task_backend.supports_defer:  # runs as soon as asked: ask each time
            _enqueue(None)
            return
        now = time.monotonic()
        with self._lock:
            if now >= self._until:
                self._until, self._followed, delay = now + WINDOW, False, 0.0
            elif not self._followed:
                self._followed, delay = True, self._until - now
            else:
                return
        try:
            _enqueue(timezone.now() + dt.timedelta(seconds=delay) if delay else None)
        except Exception:
            logger.exception("No evaluation task could be enqueued; the sweep will evaluate.")
            self.reset()

    def reset(self) -> None:
        with self._lock:
            self._until, self._followed = 0.0, False


trigger = Trigger()


def _enqueue(run_after: dt.datetime | None) -> None:
    from thirdway.monitoring.tasks import evaluate_agent_results

    task = evaluate_agent_results
    (task.using(run_after=run_after) if run_after else task).enqueue()


def evaluate_soon() -> None:
    """Results were committed: have them evaluated (after the caller's transaction)."""
    transaction.on_commit(trigger.pull)
