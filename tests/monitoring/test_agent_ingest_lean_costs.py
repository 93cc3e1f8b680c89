"""What the results path was made cheaper by, kept: the group's statement prepared once per
connection on PostgreSQL, the writer's connection checked every few seconds rather than
before each group, the evaluation asked for after the group's requests are answered, a JSON
body validated once, a check's parent read apart from the checks (and still holding its
child's alert), and agents' answered check-ins left out of gunicorn's access log."""

from __future__ import annotations

import datetime as dt
import types
from typing import Annotated

import pytest
from django.db import connection
from django.utils import timezone
from pydantic import Field, ValidationError, field_validator

from thirdway import gunicorn_config
from thirdway.monitoring import engine, evaluation, ingest_writer, pending_results
from thirdway.monitoring.ingest_wsgi import ROUTES
from thirdway.monitoring.models import AgentBatch, CheckResult
from thirdway.payloads import Payload

from .test_agent_api import batch, disk_check, enrol, result
from .test_alerting import add


def _job(agent, check, batch_id):
    now = timezone.now()
    kept = [{"check_id": check.pk, "collected_at": now, "value": 1.0, "index": 0}]
    return ingest_writer.Job(agent.pk, batch_id, kept, [], now)


@pytest.mark.django_db(transaction=True)
def test_the_groups_statement_is_prepared_once_per_connection(cast):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes a group with its own statements, in a transaction")
    agent, _ = enrol(cast)
    check = disk_check(cast, agent)
    for n in range(3):
        assert ingest_writer.write([_job(agent, check, f"prepared-{n}")]) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert [text for text in prepared if "INSERT INTO" in text and "json_to_recordset" in text]
    assert AgentBatch.objects.filter(batch_id__startswith="prepared-").count() == 3
    assert CheckResult.objects.filter(check_obj=check, pending=True).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_writers_connection_is_checked_every_few_seconds_not_per_group(cast, monkeypatch):
    agent, _ = enrol(cast)
    check = disk_check(cast, agent)
    checked = []
    monkeypatch.setattr(ingest_writer, "close_old_connections", lambda: checked.append(1))
    writer = ingest_writer.Writer()
    for n in range(3):
        writer._write_group([_job(agent, check, f"checked-{n}")])
    assert len(checked) == 1
    writer._checked_at = 0.0  # the interval has passed
    writer._write_group([_job(agent, check, "checked-3")])
    assert len(checked) == 2
    assert AgentBatch.objects.filter(batch_id__startswith="checked-").count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_evaluation_is_asked_for_once_the_groups_requests_are_answered(cast, monkeypatch):
    agent, _ = enrol(cast)
    check = disk_check(cast, agent)
    jobs = [_job(agent, check, f"asked-{n}") for n in range(2)]
    answered_when_asked = []
    monkeypatch.setattr(
        pending_results,
        "evaluate_soon",
        lambda: answered_when_asked.append([job.done.is_set() for job in jobs]),
    )
    ingest_writer.Writer()._write_group(jobs)
    assert answered_when_asked == [[True, True]]
    duplicates = [_job(agent, check, "asked-0")]
    ingest_writer.Writer()._write_group(duplicates)  # nothing new stored: nothing to evaluate
    assert len(answered_when_asked) == 1 and duplicates[0].answer[1] is True


class _Counted(Payload, extra="forbid"):
    name: Annotated[str, Field(max_length=10)]
    tags: list[Annotated[str, Field(max_length=5)]] = []

    @field_validator("name")
    @classmethod
    def counted(cls, value: str) -> str:
        _Counted.calls += 1
        return value


def test_a_json_body_is_validated_once_and_refused_as_before():
    _Counted.calls = 0
    assert _Counted.model_validate({"name": "disk", "tags": ["a"]}).name == "disk"
    assert _Counted.calls == 1  # ninja's way validated a schema forbidding extras twice
    for body, where in [
        ({"name": "disk", "other": 1}, "other"),
        ({"name": None}, "name"),
        ({"name": "disk", "tags": ["too-long"]}, "tags"),
    ]:
        with pytest.raises(ValidationError) as refused:
            _Counted.model_validate(body)
        assert refused.value.errors()[0]["loc"][0] == where
    # Anything but a dict (an object with attributes) still goes through ninja's getter.
    assert _Counted.model_validate(types.SimpleNamespace(name="obj", tags=[])).name == "obj"


@pytest.mark.django_db
def test_a_checks_parent_read_apart_still_holds_its_childs_alert(cast):
    t0 = timezone.now() - dt.timedelta(minutes=2)
    router = add(cast, name="Router", target="router.acme.example", port=22)
    evaluation.record_result(router.pk, engine.Status.CRITICAL, collected_at=t0)
    agent, secret = enrol(cast)
    child = disk_check(cast, agent, parent_id=router.pk, dependency_delay_seconds=0)
    plain = disk_check(cast, agent, name="Disk /srv", metric="disk:/srv")
    batch(secret, "parent-000001", [result(child, 95.0), result(plain, 50.0)])
    child.refresh_from_db()
    plain.refresh_from_db()
    assert child.suppressed == "parent down (Router)"
    assert child.status == "critical" and plain.status == "ok"


def test_answered_check_ins_are_left_out_of_the_access_log(monkeypatch):
    assert set(ROUTES) == gunicorn_config.CHECK_IN_PATHS
    logged = []
    base = gunicorn_config.logger_class.__mro__[1]
    monkeypatch.setattr(base, "access", lambda self, resp, req, environ, took: logged.append(1))
    quiet = object.__new__(gunicorn_config.logger_class)

    def access(path, status):
        quiet.access(types.SimpleNamespace(status_code=status), None, {"PATH_INFO": path}, 0)

    access("/api/v1/monitoring/agent/heartbeat", 200)
    access("/api/v1/monitoring/agent/results", 200)
    assert logged == []
    access("/api/v1/monitoring/agent/results", 401)
    access("/api/v1/monitoring/agent/heartbeat", 429)
    access("/api/v1/monitoring/agent/inventory", 200)
    access("/api/v1/tickets", 200)
    assert len(logged) == 4
