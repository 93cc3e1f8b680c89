"""Agents' results are committed and answered first, and evaluated afterwards by the task worker:
an acknowledged batch is stored whether or not its evaluation ran, the evaluation gives what
the request's own evaluation gave (in collection order, a replayed outage as history), two
evaluators never evaluate a result twice, the sweep evaluates what was left, and a web
process asks the worker at most twice per window."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from thirdway.monitoring import evaluation, pending_results
from thirdway.monitoring.models import Alert, CheckEvent, CheckResult
from thirdway.tickets.models import Ticket

from .test_agent_api import batch, disk_check, enrol, result

EVALUATE_TASK = "thirdway.monitoring.tasks.evaluate_agent_results"


@pytest.fixture(autouse=True)
def _fresh_trigger():
    pending_results.trigger.reset()
    yield
    pending_results.trigger.reset()


def test_an_acknowledged_batch_is_stored_before_its_evaluation_runs(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    answer = batch(secret, "later-00001", [result(check, 96.5, output="97 %")], evaluate=False)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    stored = CheckResult.objects.get(check_obj=check)
    assert stored.pending and stored.value == 96.5 and stored.output == "97 %"
    check.refresh_from_db()
    assert check.status == "pending" and not Alert.objects.exists()
    assert pending_results.evaluate_pending()["evaluated"] == 1
    stored.refresh_from_db()
    assert not stored.pending and stored.status == "critical" and stored.reported is None
    assert Alert.objects.get(check_obj=check).ticket is not None
    assert pending_results.evaluate_pending()["evaluated"] == 0  # nothing is evaluated twice


def _timeline(check):
    check.refresh_from_db()
    results = CheckResult.objects.filter(check_obj=check).order_by("collected_at", "id")
    events = CheckEvent.objects.filter(check_obj=check).order_by("at", "id")
    alerts = Alert.objects.filter(check_obj=check).order_by("id")
    return {
        "results": [(r.status, r.output) for r in results],
        "events": [(e.kind, e.status, e.text) for e in events],
        "alerts": [(a.status, a.severity, a.repeats, a.ticket_id is not None) for a in alerts],
        "state": (check.status, check.state_type, check.suppressed, check.state),
    }


def test_evaluated_later_gives_what_the_request_gave(cast, settings):
    """The same batches, once evaluated in each request and once all evaluated after the last
    answer: an outage's problem that opened and closed is history (no ticket), the problem still
    there opens its alert with the next current result, and thresholds read the state before."""
    # Every result is collected in the past: one collected "ahead" of the server's clock takes
    # the time it arrived instead, which differs between the two runs.
    now = timezone.now() - dt.timedelta(seconds=30)
    start = now - dt.timedelta(minutes=40)
    at = [start + dt.timedelta(minutes=m) for m in (0, 10, 11, 20, 39)]
    sent = [
        ("b1", [(40.0, at[0])]),
        ("b2", [(41.0, at[3]), (97.0, at[1]), (98.0, at[2])]),  # the outage, newest first
        ("b3", [(85.0, at[4]), (95.0, now)]),  # a warning, then a current problem
        ("b4", [(91.0, now + dt.timedelta(seconds=1))]),
    ]
    outcomes = []
    for inline, host in ((True, "srv-inline"), (False, "srv-later")):
        settings.AGENT_EVALUATE_INLINE = inline
        agent, secret = enrol(cast, hostname=host)
        check = disk_check(cast, agent)
        for name, values in sent:
            body = [result(check, value, at=when, output=f"{value} %") for value, when in values]
            answer = batch(secret, f"{host}-{name}", body, evaluate=False)
            assert answer.json()["accepted"] == len(values)
        if not inline:
            assert CheckResult.objects.filter(check_obj=check, pending=True).count() == 7
            assert pending_results.evaluate_pending()["evaluated"] == 7
        outcomes.append(_timeline(check))
    inline, later = outcomes
    assert later == inline
    assert [alert[:2] for alert in later["alerts"]] == [("open", "critical")]
    assert any(text.startswith("Down") for _, _, text in later["events"])
    assert Ticket.objects.count() == 2  # one per check: the current problem, not the outage


def test_an_outage_replayed_alone_is_history_when_evaluated_later(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    start = timezone.now() - dt.timedelta(minutes=40)
    values = [(40.0, 0), (97.0, 10), (98.0, 11), (41.0, 20)]
    body = [result(check, v, at=start + dt.timedelta(minutes=m)) for v, m in values]
    batch(secret, "outage-later-1", body, evaluate=False)
    pending_results.evaluate_pending()
    check.refresh_from_db()
    assert check.status == "ok" and not Alert.objects.exists() and not Ticket.objects.exists()
    texts = list(CheckEvent.objects.filter(check_obj=check).values_list("text", flat=True))
    assert any(text.startswith("Down") for text in texts)
    assert any("delivered late" in text for text in texts)


def test_the_sweep_evaluates_results_left_pending(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    batch(secret, "left-000001", [result(check, 50.0)], evaluate=False)
    batch(secret, "left-000002", [result(check, 97.0)], evaluate=False)
    counts = evaluation.sweep()
    assert counts["results_evaluated"] == 2 and counts["failed"] == 0
    assert not CheckResult.objects.filter(pending=True).exists()
    assert Alert.objects.get(check_obj=check).ticket is not None


def test_a_web_process_asks_the_worker_at_most_twice_per_window(
    cast, django_capture_on_commit_callbacks
):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            batch(secret, f"window-0000{n}", [result(check, 50.0)], evaluate=False)
    asked = DBTaskResult.objects.filter(task_path=EVALUATE_TASK).order_by("enqueued_at")
    # The first at once; the window's others share one set to start when the window ends.
    assert asked.count() == 2
    assert asked[0].run_after > asked[1].run_after > before  # the first's is "whenever"


def test_a_refused_batch_asks_nothing(cast, django_capture_on_commit_callbacks):
    _, secret = enrol(cast)
    theirs = disk_check(cast, enrol(cast, hostname="srv-other")[0])
    with django_capture_on_commit_callbacks(execute=True):
        answer = batch(secret, "refused-0001", [result(theirs, 1.0)], evaluate=False)
    assert answer.json()["accepted"] == 0 and len(answer.json()["refused"]) == 1
    assert not DBTaskResult.objects.filter(task_path=EVALUATE_TASK).exists()


def test_inline_evaluation_is_a_setting(cast, settings):
    settings.AGENT_EVALUATE_INLINE = True
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    batch(secret, "inline-00001", [result(check, 97.0)], evaluate=False)
    assert not CheckResult.objects.filter(pending=True).exists()
    assert Alert.objects.get(check_obj=check).ticket is not None


@pytest.mark.django_db(transaction=True)
def test_evaluators_at_once_never_evaluate_a_result_twice(cast, threads_db):
    """Four evaluators race over the same pending results of several checks: every result is
    evaluated exactly once, in order (each check's repeats count each problem once)."""
    checks = []
    for n in range(3):
        agent, secret = enrol(cast, hostname=f"srv-race-{n}")
        check = disk_check(cast, agent)
        now = timezone.now()
        body = [result(check, 97.0, at=now - dt.timedelta(seconds=s)) for s in range(12)]
        batch(secret, f"race-{n:06d}", body, evaluate=False)
        checks.append(check)
    use_db = threads_db()
    start = threading.Barrier(4)
    evaluated: list[int] = []
    errors: list[BaseException] = []

    def evaluator() -> None:
        try:
            with use_db():
                start.wait()
                evaluated.append(pending_results.evaluate_pending()["evaluated"])
                if connection.vendor == "sqlite":  # the threads worked on a copy: read it
                    totals.append(_totals(checks))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    totals: list[tuple] = []
    threads = [threading.Thread(target=evaluator) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(evaluated) == 36
    final = totals[-1] if totals else _totals(checks)
    assert final == (0, [1, 1, 1], [11, 11, 11])


def _totals(checks) -> tuple[int, list[int], list[int]]:
    pending = CheckResult.objects.filter(pending=True).count()
    alerts = [Alert.objects.filter(check_obj=check).count() for check in checks]
    repeats = [Alert.objects.get(check_obj=check).repeats for check in checks]
    return pending, alerts, repeats
