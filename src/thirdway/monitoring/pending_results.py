"""Agents' results after they are stored: judged by the alert engine, check by check, in order.

A results batch is committed *pending* and the agent answered (``ingest_store.store_batch``);
what the engine makes of it is decided here, afterwards, by the task worker:

- **In order per check.**  A check's pending results are taken in the order they were
  collected (then arrived), and each is evaluated at its collection time exactly as it would
  have been in the request: thresholds against the state before it, a result delivered long
  after it was collected (``LATE_AFTER``, counted from its arrival) changes the state but opens
  no alert.
- **Claimed under the checks' locks, many checks a transaction.**  One transaction locks up
  to ``BATCH_CHECKS`` checks (one SELECT … FOR UPDATE, in id order), reads their pending
  results and their maintenance windows once, evaluates the results check by check, writes
  each check once with the columns that changed and marks the results evaluated; a second
  evaluator of the same checks waits for the locks and then finds nothing left, so no result
  is evaluated twice and none before an earlier one of its check.  (SQLite has one writer at
  a time: the same.)
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
from collections.abc import Callable
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from thirdway import taskwake
from thirdway.clients.certificates import SeenCertificate, certificate_seen
from thirdway.monitoring.models import Agent, Check, CheckEvent, CheckKind, CheckResult, EventKind

logger = logging.getLogger(__name__)
# A result collected this long before it arrived was buffered: it is history, not news.
LATE_AFTER = dt.timedelta(minutes=5)
# Evaluation tasks asked for by one web process: at most two per this many seconds.
WINDOW = 0.2
# The most results of one check evaluated in one transaction, and per run of the task.
PER_BATCH = 2_000
PER_RUN = 5_000
# Checks evaluated in one transaction; rows marked evaluated in one UPDATE.
BATCH_CHECKS = 100
MARK_ROWS = 300
# Evaluations of a result that raise before it is set aside and its check's later ones go on.
ATTEMPTS = 3


# --- one result --------------------------------------------------------------------------------


def judge(
    agent_id: int,
    check: Check,
    result: dict,
    collected: dt.datetime,
    arrived: dt.datetime,
    *,
    windows: dict | None = None,
    save: Callable[[Check, bool], None] | None = None,
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
    evaluation.evaluate_stored(
        check, status, output=output, at=collected, late=late, windows=windows, save=save
    )
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


# --- checks' pending results, many checks a transaction ---------------------------------------


class _Writes:
    """The checks of a batch as read, and what their results changed in them.  The changed
    columns are written once, at the end of the batch (one ``executemany`` of UPDATEs per set of
    columns), and a check nothing changed is not written; a check whose outcome carries actions
    (alerts, tickets, notes) is written at once, before them, as ``check.save()`` did."""

    def __init__(self, checks: list[Check]) -> None:
        self.fields = [field for field in Check._meta.concrete_fields if not field.primary_key]
        self.written = {check.pk: self.values(check) for check in checks}

    def values(self, check: Check) -> dict:
        kept = {}
        for field in self.fields:
            value = getattr(check, field.attname)
            kept[field.attname] = _copied(value) if type(value) in (dict, list) else value
        return kept

    def restore(self, check: Check, values: dict, written: dict) -> None:
        for name, value in values.items():
            setattr(check, name, value)
        self.written[check.pk] = written

    def changed(self, check: Check) -> list:
        before = self.written[check.pk]
        return [f for f in self.fields if getattr(check, f.attname) != before[f.attname]]

    def save(self, check: Check, urgent: bool) -> None:
        if not urgent:
            return  # written with the batch
        changed = self.changed(check)
        if changed:
            check.save(update_fields=[field.name for field in changed])
            self.written[check.pk] = self.values(check)

    def flush(self, checks: list[Check]) -> None:
        """Write what changed, at the end of the batch (nothing is compared after it)."""
        groups: dict[tuple, list[Check]] = {}
        for check in checks:
            changed = self.changed(check)
            if changed:
                groups.setdefault(tuple(changed), []).append(check)
        quote = connection.ops.quote_name
        table = quote(Check._meta.db_table)
        with connection.cursor() as cursor:
            for fields, members in groups.items():
                columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
                cursor.executemany(
                    f"UPDATE {table} SET {columns} WHERE id = %s",  # noqa: S608
                    [
                        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields]
                        + [c.pk]
                        for c in members
                    ],
                )


def _copied(value: object) -> object:
    """A copy of a JSON value, dicts and lists copied all the way down (``copy.deepcopy``, with
    its memo, cost more than the evaluation it watched)."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


def _with_parents(checks: list[Check]) -> list[Check]:
    """``checks`` with their parents (few have one) read in one query: joined to every check
    (``select_related``), they doubled the columns read and the rows built."""
    ids = {check.parent_id for check in checks if check.parent_id is not None}
    parents = Check.objects.in_bulk(ids) if ids else {}
    for check in checks:
        if check.parent_id in parents:
            Check.parent.field.set_cached_value(check, parents[check.parent_id])
    return checks


def _judge_row(row: CheckResult, check: Check, windows: dict, writes: _Writes) -> None:
    agent_id = (row.reported or {}).get("agent") or check.agent_id
    row.check_obj = check
    row.status, row.output = judge(
        agent_id,
        check,
        _as_reported(row),
        row.collected_at,
        row.received_at,
        windows=windows,
        save=writes.save,
    )


def evaluate_checks(check_ids: list[int], careful: bool = False) -> dict[str, int]:
    """Evaluate the pending results of these checks, each check's in order, in one transaction
    that locks the checks (one SELECT … FOR UPDATE, in id order).

    ``careful``: each result in a savepoint of its own, so that one whose evaluation raises is
    undone alone: it counts an attempt, and its check's later results wait (order kept) until
    its ``ATTEMPTS``-th, when it is set aside (no longer pending, the error kept, a note on the
    check's timeline) and the later ones go on.  Without it (the ordinary way, no savepoint per
    result) any error undoes the whole batch, and the caller runs it again carefully."""
    from thirdway.monitoring.evaluation import windows_for

    counts = {"evaluated": 0, "checks": 0, "held": 0, "set_aside": 0}
    held: set[int] = set()
    with transaction.atomic():
        locked = Check.objects.select_for_update(of=("self",))
        checks = _with_parents(list(locked.filter(pk__in=check_ids).order_by("pk")))
        if not checks:  # deleted meanwhile, and their results with them
            return {**counts, "held_ids": held}
        by_id = {check.pk: check for check in checks}
        pending = CheckResult.objects.filter(check_obj_id__in=list(by_id), pending=True)
        rows = list(pending.order_by("check_obj_id", "collected_at", "id")[:PER_BATCH])
        windows = windows_for(checks)
        writes = _Writes(checks)
        done: list[CheckResult] = []
        retried: list[CheckResult] = []
        set_aside: list[CheckResult] = []
        for row in rows:
            check = by_id[row.check_obj_id]
            if check.pk in held:
                continue
            if not careful:
                _judge_row(row, check, windows[check.pk], writes)
                done.append(row)
                continue
            values, written = writes.values(check), writes.written[check.pk]
            try:
                with transaction.atomic():
                    _judge_row(row, check, windows[check.pk], writes)
            except Exception as error:
                writes.restore(check, values, written)
                row.attempts += 1
                row.error = f"{type(error).__name__}: {error}"[:500]
                logger.exception(
                    "The result %s of check %s could not be evaluated (attempt %s of %s).",
                    row.pk,
                    check.pk,
                    row.attempts,
                    ATTEMPTS,
                )
                if row.attempts >= ATTEMPTS:
                    set_aside.append(row)
                else:
                    retried.append(row)
                    held.add(check.pk)
            else:
                done.append(row)
        writes.flush(checks)
        _mark_evaluated(done)
        _note_failures(retried, set_aside)
    tell_certificates(done)
    counts["evaluated"] = len(done)
    counts["checks"] = len({row.check_obj_id for row in done})
    counts["held"], counts["set_aside"] = len(held), len(set_aside)
    return {**counts, "held_ids": held}


def evaluate_check(check_id: int) -> int:
    """Evaluate one check's pending results in order, under its lock; how many."""
    return evaluate_checks([check_id])["evaluated"]


def _mark_evaluated(rows: list[CheckResult]) -> None:
    """Each row's status and output, no longer pending (an earlier attempt's error cleared): one
    UPDATE per ``MARK_ROWS`` rows, their values joined from a VALUES list (PostgreSQL and SQLite
    both name its columns column1…)."""
    table = connection.ops.quote_name(CheckResult._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MARK_ROWS):
            chunk = rows[start : start + MARK_ROWS]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET status = v.column2, output = v.column3, pending = %s, "  # noqa: S608
                f"reported = NULL, error = '' FROM (VALUES {values}) AS v "
                f"WHERE {table}.id = v.column1",
                [False, *(value for row in chunk for value in (row.pk, row.status, row.output))],
            )


def _note_failures(retried: list[CheckResult], set_aside: list[CheckResult]) -> None:
    """Results whose evaluation raised: the attempt and the error counted; those that had their
    last attempt set aside (no longer pending, shown failed) with a note on the check's
    timeline."""
    for row in retried:
        CheckResult.objects.filter(pk=row.pk).update(attempts=row.attempts, error=row.error)
    for row in set_aside:
        CheckResult.objects.filter(pk=row.pk).update(
            attempts=row.attempts, error=row.error, pending=False
        )
        CheckEvent.objects.create(
            check_obj_id=row.check_obj_id,
            at=row.collected_at,
            kind=EventKind.NOTE,
            text=(
                f"A result collected at {row.collected_at:%Y-%m-%d %H:%M:%S} UTC could not be "
                f"evaluated after {row.attempts} attempts and was set aside ({row.error}); "
                "the later results went on."
            )[:500],
        )


def evaluate_pending(limit: int = PER_RUN) -> dict[str, int]:
    """Evaluate pending results, ``BATCH_CHECKS`` checks a transaction, until none is left or
    ``limit`` were.  A batch that raises is run again carefully (a result at a time, see
    ``evaluate_checks``); a check whose result failed is left for the next run, and never
    stops the others."""
    counts = {"evaluated": 0, "checks": 0, "failed": 0, "set_aside": 0, "left": 0}
    failed: set[int] = set()
    while counts["evaluated"] < limit:
        waiting = CheckResult.objects.filter(pending=True).exclude(check_obj_id__in=failed)
        ids = list(waiting.order_by().values_list("check_obj_id", flat=True).distinct()[:1000])
        if not ids:
            return counts
        random.shuffle(ids)  # several workers then mostly take different checks at once
        for start in range(0, len(ids), BATCH_CHECKS):
            batch = ids[start : start + BATCH_CHECKS]
            try:
                done = evaluate_checks(batch)
            except Exception:
                try:
                    done = evaluate_checks(batch, careful=True)
                except Exception:
                    logger.exception(
                        "The pending results of checks %s could not be evaluated.", batch
                    )
                    failed.update(batch)
                    counts["failed"] += len(batch)
                    continue
            failed.update(done["held_ids"])
            counts["failed"] += done["held"]
            counts["set_aside"] += done["set_aside"]
            counts["evaluated"] += done["evaluated"]
            counts["checks"] += done["checks"]
            if counts["evaluated"] >= limit:
                break
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
            # The worker looks when the task may start rather than at its next poll: at once,
            # or, for the task set to start when the window ends, then.
            if delay:
                waker = threading.Timer(delay, taskwake.wake)
                waker.daemon = True
                waker.start()
            else:
                taskwake.wake()
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
