"""The lean path of agents' heartbeats and results (a WSGI callable in front of Django): it
answers as Django's operations do, refuses through them, keeps last seen in memory until a
flush, answers 429 with Retry-After when too many check-ins are in flight, and stops trusting
a revoked agent within the documented bound.  Also the pruning of old results and batch ids."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client as HttpClient
from django.utils import timezone

from support.api import send
from thirdway.audit.models import Source
from thirdway.clock.jobs import JOBS
from thirdway.monitoring import agents, ingest, ingest_store, pending_results
from thirdway.monitoring.ingest_wsgi import LeanIngest
from thirdway.monitoring.models import (
    Agent,
    AgentBatch,
    Alert,
    CheckEvent,
    CheckResult,
    IntakeDelivery,
)

from .test_agent_api import AGENT, as_agent, disk_check, enrol, result


class Answer:
    def __init__(self, status: int, headers: dict, content: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, content

    def json(self):
        return json.loads(self.content)


@pytest.fixture
def lean(monkeypatch):
    """Call the lean WSGI path as gunicorn would (its fall-back is Django's handler)."""
    monkeypatch.setattr(ingest_store.SeenBuffer, "flush_in_background", False)
    ingest.forget_everything()
    ingest_store.seen_later.discard()
    app = LeanIngest(WSGIHandler())

    def call(path: str, body, secret: str | None = None, **extra) -> Answer:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"{AGENT}/{path}",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **extra,
        }
        if secret is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

        # As Django's test client does: the test's transaction keeps its connection.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            chunks = app(environ, start_response)
            content = b"".join(chunks)
            getattr(chunks, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return Answer(seen["status"], seen["headers"], content)

    yield call
    ingest.forget_everything()
    ingest_store.seen_later.discard()


def without_times(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in ("server_time", "skew_seconds")}


def test_the_lean_heartbeat_answers_as_djangos_operation(cast, lean):
    agent, secret = enrol(cast)
    disk_check(cast, agent)
    sent = {"etag": "", "sent_at": timezone.now().isoformat(), "buffered": 3, "dropped": 1}
    fast = lean("heartbeat", sent, secret)
    slow = send(as_agent(secret), "post", f"{AGENT}/heartbeat", sent)
    assert fast.status_code == slow.status_code == 200
    assert fast.headers["Content-Type"] == slow["Content-Type"]
    assert "Thirdway-Server-Time" in fast.headers
    assert without_times(fast.json()) == without_times(slow.json())
    assert fast.json()["config"]["checks"][0]["metric"] == "disk:/"
    assert fast.json()["skew_seconds"] is not None
    etag = fast.json()["config"]["etag"]
    assert lean("heartbeat", {"etag": etag}, secret).json()["config"]["checks"] is None


def test_last_seen_of_the_lean_heartbeat_is_written_by_the_flush(cast, lean):
    _, secret = enrol(cast)
    Agent.objects.update(last_seen_at=None)
    assert lean("heartbeat", {"buffered": 7, "dropped": 2}, secret).status_code == 200
    assert Agent.objects.get().last_seen_at is None  # kept in memory until the flush
    assert ingest_store.seen_later.flush() == 1
    written = Agent.objects.get()
    assert written.last_seen_at is not None
    assert (written.results_buffered, written.results_dropped) == (7, 2)
    assert ingest_store.seen_later.flush() == 0


def test_a_lean_batch_is_stored_once_and_answers_as_djangos(cast, lean):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    theirs = disk_check(cast, enrol(cast, hostname="srv-other")[0])
    body = {"batch_id": "lean-0000001", "results": [result(check, 95.0), result(theirs, 1.0)]}
    first = lean("results", body, secret)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = lean("results", body, secret)
    assert again.json()["duplicate"] is True
    assert without_times(again.json()) == {**without_times(first.json()), "duplicate": True}
    assert CheckResult.objects.filter(check_obj=check).count() == 1
    assert AgentBatch.objects.count() == 1
    # Django's operation says the same about the same batch.
    slow = send(as_agent(secret), "post", f"{AGENT}/results", body)
    assert without_times(slow.json()) == without_times(again.json())
    assert first.json()["accepted"] == 1 and [r["index"] for r in first.json()["refused"]] == [1]
    pending_results.evaluate_pending()  # as the worker does after the answer
    check.refresh_from_db()
    assert check.status == "critical"


def test_a_batch_of_many_results_is_evaluated_in_collection_order(cast, lean):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    now = timezone.now()
    values = [95.0, 50.0, 85.0]  # sent newest first: critical, then ok, then warning
    results = [result(check, v, at=now - dt.timedelta(seconds=i)) for i, v in enumerate(values)]
    answer = lean("results", {"batch_id": "order-000001", "results": results}, secret)
    assert answer.json()["accepted"] == 3
    pending_results.evaluate_pending()
    stored = CheckResult.objects.filter(check_obj=check).order_by("collected_at")
    assert [r.status for r in stored] == ["warning", "ok", "critical"]
    check.refresh_from_db()
    assert check.status == "critical"


@pytest.mark.parametrize("secret", [None, "twag_unknown", "tw_not-an-agent"])
def test_refusals_are_djangos_own(cast, lean, secret):
    for path in ("heartbeat", "results"):
        answer = lean(path, {}, secret)
        assert answer.status_code == 401
        assert answer.json() == {"detail": "Unauthorized."}


def test_bad_bodies_are_refused_by_django_naming_the_field(cast, lean):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    bad = lean("results", {"batch_id": "bad-0000001", "results": [{"check_id": check.pk}]}, secret)
    assert bad.status_code == 400
    assert any("collected_at" in error["field"] for error in bad.json()["errors"])
    assert lean("heartbeat", b"{not json", secret).status_code == 400
    assert lean("heartbeat", {"buffered": -1}, secret).status_code == 400
    big = {"batch_id": "big-0000001", "results": [result(check, 1.0, output="x" * 500)] * 2_500}
    too_big = lean("results", big, secret)
    assert too_big.status_code == 413 and too_big.json()["limit_bytes"] == 1024 * 1024
    assert not CheckResult.objects.exists() and not AgentBatch.objects.exists()


def test_too_many_check_ins_at_once_are_a_429_with_retry_after(cast, lean, settings):
    settings.AGENT_INGEST_IN_FLIGHT = 1
    settings.AGENT_RETRY_AFTER_SECONDS = 7
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    body = {"batch_id": "busy-0000001", "results": [result(check, 95.0)]}
    assert ingest.gate.enter()  # one check-in is being handled
    try:
        busy = lean("results", body, secret)
        slow = send(as_agent(secret), "post", f"{AGENT}/results", body)
        beat = send(as_agent(secret), "post", f"{AGENT}/heartbeat", {})
    finally:
        ingest.gate.leave()
    for answer in (busy, slow, beat):
        assert answer.status_code == 429
        assert answer.json()["retry_after_seconds"] == 7
    assert busy.headers["Retry-After"] == slow["Retry-After"] == "7"
    assert not AgentBatch.objects.exists() and not CheckResult.objects.exists()
    # Once the check-in in progress ends, the same batch is taken.
    assert lean("results", body, secret).json()["accepted"] == 1


def test_the_openapi_document_declares_the_429(cast):
    document = HttpClient().get("/api/v1/openapi.json").json()
    for path in ("heartbeat", "results"):
        answers = document["paths"][f"{AGENT}/{path}"]["post"]["responses"]
        assert answers["429"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/AgentBusyOut"
        )
        assert {"200", "400", "401", "413"} <= set(answers)


def test_a_revoked_agent_is_refused_within_the_cache_time(cast, lean, settings):
    settings.AGENT_AUTH_CACHE_SECONDS = 1
    agent, secret = enrol(cast)
    assert lean("heartbeat", {}, secret).status_code == 200  # now trusted for 1 s
    # Revoked by another process: this one learns it when its copy runs out.
    Agent.objects.filter(pk=agent.pk).update(revoked_at=timezone.now())
    assert lean("heartbeat", {}, secret).status_code == 200
    time.sleep(1.1)
    assert lean("heartbeat", {}, secret).status_code == 401


def test_a_revocation_in_this_process_refuses_at_once(cast, lean):
    agent, secret = enrol(cast)
    assert lean("heartbeat", {}, secret).status_code == 200
    agents.revoke_agent(cast.partner, agent, source=Source.CLI)
    assert lean("heartbeat", {}, secret).status_code == 401


def test_old_results_and_batch_ids_are_pruned_and_recent_ones_kept(cast):
    agent, _ = enrol(cast)
    check = disk_check(cast, agent)
    now = timezone.now()
    old, recent = now - dt.timedelta(days=91), now - dt.timedelta(days=89)
    for at in (old, recent):
        CheckResult.objects.create(check_obj=check, collected_at=at, status="ok", value=1.0)
    AgentBatch.objects.create(agent=agent, batch_id="old-00000001")
    AgentBatch.objects.filter(batch_id="old-00000001").update(received_at=old)
    AgentBatch.objects.create(agent=agent, batch_id="new-00000001")
    nothing = {"events": 0, "webhook_bodies": 0}
    assert ingest_store.prune(now, days=90) == {"results": 1, "batches": 1, **nothing}
    assert list(CheckResult.objects.values_list("collected_at", flat=True)) == [recent]
    assert list(AgentBatch.objects.values_list("batch_id", flat=True)) == ["new-00000001"]
    assert ingest_store.prune(now, days=90) == {"results": 0, "batches": 0, **nothing}
    assert any(job.name == "monitoring.prune" for job in JOBS)


def test_old_timeline_events_and_webhook_bodies_are_pruned_but_open_alerts_keep_theirs(cast):
    agent, _ = enrol(cast)
    check = disk_check(cast, agent)
    now = timezone.now()
    old, recent = now - dt.timedelta(days=91), now - dt.timedelta(days=89)
    closed = Alert.objects.create(
        check_obj=check,
        client=check.client,
        status="resolved",
        severity="critical",
        summary="old",
        opened_at=old,
        last_seen_at=old,
        resolved_at=old,
    )
    still_open = Alert.objects.create(
        check_obj=check,
        client=check.client,
        severity="critical",
        summary="open",
        opened_at=old,
        last_seen_at=old,
    )
    for text, at, alert in (
        ("old plain", old, None),
        ("old of a resolved alert", old, closed),
        ("old of the open alert", old, still_open),
        ("recent", recent, None),
    ):
        CheckEvent.objects.create(check_obj=check, alert=alert, at=at, kind="note", text=text)
    for name, processed in (("old done", old), ("old waiting", None), ("recent", recent)):
        delivery = IntakeDelivery.objects.create(
            client=check.client, group_key=name, body={}, processed_at=processed
        )
        at = recent if name == "recent" else old
        IntakeDelivery.objects.filter(pk=delivery.pk).update(received_at=at)
    counts = ingest_store.prune(now, days=90)
    assert (counts["events"], counts["webhook_bodies"]) == (2, 1)
    assert sorted(CheckEvent.objects.values_list("text", flat=True)) == [
        "old of the open alert",
        "recent",
    ]
    assert sorted(IntakeDelivery.objects.values_list("group_key", flat=True)) == [
        "old waiting",
        "recent",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("THIRDWAY_AGENT_AUTH_CACHE_SECONDS", "31"),
        ("THIRDWAY_MONITORING_RETENTION_DAYS", "6"),
        ("THIRDWAY_MONITORING_RETENTION_DAYS", "3651"),
    ],
)
def test_the_cache_time_and_the_retention_are_bounded(tmp_path, name, value):
    answer = subprocess.run(
        [sys.executable, "-m", "thirdway", "check"],
        env={"THIRDWAY_HOME": str(tmp_path), name: value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode != 0 and name in answer.stderr
