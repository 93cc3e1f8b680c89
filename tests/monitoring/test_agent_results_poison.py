"""A result whose evaluation raises every time no longer holds its check back: it counts an
attempt at each run, its check's later results wait meanwhile (the order is kept), and at its
third attempt it is set aside (kept, no longer pending, with its error, noted on the check's
timeline and shown on its page) and the later results go on.  Other checks never wait."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.monitoring import pending_results
from thirdway.monitoring.models import Alert, CheckEvent, CheckResult

from .test_agent_api import batch, disk_check, enrol, result

POISON = 66.6


@pytest.fixture
def poisoned(monkeypatch):
    judge = pending_results.judge

    def judging(agent_id, check, reported, *args, **kwargs):
        if reported.get("value") == POISON:
            raise ValueError("cannot read this result")
        return judge(agent_id, check, reported, *args, **kwargs)

    monkeypatch.setattr(pending_results, "judge", judging)


def test_a_poison_result_is_set_aside_after_three_attempts(cast, web_as, page, poisoned):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    other_agent, other_secret = enrol(cast, hostname="srv-other")
    other = disk_check(cast, other_agent)
    start = timezone.now() - dt.timedelta(seconds=30)
    values = [(50.0, 0), (POISON, 10), (97.0, 20)]
    body = [result(check, v, at=start + dt.timedelta(seconds=s)) for v, s in values]
    batch(secret, "poison-00001", body, evaluate=False)
    batch(other_secret, "poison-00002", [result(other, 97.0)], evaluate=False)

    first = pending_results.evaluate_pending()
    assert first["evaluated"] == 2 and first["failed"] == 1  # the other check did not wait
    assert Alert.objects.filter(check_obj=other).exists()
    poison = CheckResult.objects.get(check_obj=check, value=POISON)
    later = CheckResult.objects.get(check_obj=check, value=97.0)
    poison.refresh_from_db()
    assert poison.pending and poison.attempts == 1 and "cannot read" in poison.error
    assert later.pending  # never before an earlier result of its check
    html = page(web_as(cast.partner).get(f"/monitoring/checks/{check.pk}/"))
    assert "attempt 1 failed" in html

    second = pending_results.evaluate_pending()
    assert second["evaluated"] == 0 and second["failed"] == 1
    third = pending_results.evaluate_pending()
    assert third["evaluated"] == 1 and third["set_aside"] == 1

    poison.refresh_from_db()
    later.refresh_from_db()
    assert not poison.pending and poison.failed and poison.attempts == 3
    assert poison.error == "ValueError: cannot read this result"
    assert not later.pending and later.status == "critical"
    assert Alert.objects.get(check_obj=check).ticket is not None
    note = CheckEvent.objects.get(check_obj=check, kind="note", text__contains="set aside")
    assert "after 3 attempts" in note.text
    check.refresh_from_db()
    assert check.status == "critical"
    assert not CheckResult.objects.filter(pending=True).exists()
    assert pending_results.evaluate_pending()["evaluated"] == 0
    html = page(web_as(cast.partner).get(f"/monitoring/checks/{check.pk}/"))
    assert "Not evaluated" in html and "set aside after 3 attempts" in html


def test_a_result_that_fails_once_is_evaluated_at_the_next_run(cast, monkeypatch):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    batch(secret, "flaky-000001", [result(check, 97.0)], evaluate=False)
    judge = pending_results.judge
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:  # the batch, then its careful run
            raise RuntimeError("the database went away")
        return judge(*args, **kwargs)

    monkeypatch.setattr(pending_results, "judge", flaky)
    assert pending_results.evaluate_pending()["evaluated"] == 0
    stored = CheckResult.objects.get(check_obj=check)
    assert stored.pending and stored.attempts == 1
    assert not Alert.objects.exists()
    assert pending_results.evaluate_pending()["evaluated"] == 1
    stored.refresh_from_db()
    assert not stored.pending and not stored.failed and stored.status == "critical"
    assert Alert.objects.get(check_obj=check).ticket is not None
