""" "Run now" for script checks: who may ask (API and page), what is refused, and the real agent
running the script at its next check-in with the run kept as asked by that person."""

from __future__ import annotations

import pytest

from support.api import API, assert_refused, send
from thirdway.audit.models import AuditRecord, Source
from thirdway.monitoring import agents, scripts, services
from thirdway.monitoring.models import Agent, Check, ScriptRun

from .test_agent_live import enrolled, machine  # noqa: F401 - the fixture


def _script_check(cast, agent, **extra) -> Check:
    script = scripts.create_script(
        cast.admin,
        cast.security,
        name="Backups",
        interpreter="sh",
        body="echo 'OK - all backups fresh'\nexit 0\n",
        source=Source.CLI,
    )
    return services.create_check(
        cast.admin,
        cast.acme,
        name="Backups",
        kind="agent_script",
        agent_id=agent.pk,
        script_id=script.pk,
        max_attempts=1,
        source=Source.CLI,
        **extra,
    )


@pytest.fixture
def script_check(cast) -> Check:
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-run")
    return _script_check(cast, agent)


def test_the_desk_asks_for_a_run_and_others_may_not(cast, api_as, script_check):
    url = API + f"/monitoring/checks/{script_check.pk}/run-now"
    answer = send(api_as(cast.desk), "post", url)
    assert answer.status_code == 202, answer.content
    assert answer.json()["check_id"] == script_check.pk
    assert answer.json()["run_requested_by_id"] == cast.desk.pk
    script_check.refresh_from_db()
    assert script_check.run_requested_by == cast.desk and script_check.run_requested_at
    assert AuditRecord.objects.filter(action="monitoring.check.run_now").count() == 1
    # A partner serving the client manages its checks but does not run scripts on demand.
    assert send(api_as(cast.partner), "post", url).status_code == 403
    assert send(api_as(cast.client_admin), "post", url).status_code == 403
    for role in ("other_partner", "other_client_admin", "outsider"):
        assert send(api_as(getattr(cast, role)), "post", url).status_code == 404, role
    script_check.refresh_from_db()
    assert script_check.run_requested_by == cast.desk


def test_only_a_running_script_check_runs_on_demand(cast, api_as, script_check):
    admin = api_as(cast.admin)
    other = services.create_check(
        cast.admin,
        cast.acme,
        name="Shop",
        kind="tcp",
        target="shop.example",
        port=443,
        source=Source.CLI,
    )
    assert_refused(send(admin, "post", API + f"/monitoring/checks/{other.pk}/run-now"), "check")
    services.update_check(cast.admin, script_check, {"is_paused": True}, source=Source.CLI)
    url = API + f"/monitoring/checks/{script_check.pk}/run-now"
    assert_refused(send(admin, "post", url), "check")
    assert not Check.objects.filter(run_requested_at__isnull=False).exists()


def test_the_agent_runs_an_asked_run_at_its_next_check_in_as_asked_by_that_person(
    cast,
    enrolled,  # noqa: F811 - the fixture imported above
):
    check = _script_check(cast, Agent.objects.get(), interval_seconds=3600)
    agent = machine(enrolled)
    try:
        assert agent.cycle()["measured"] == 1
        assert agent.cycle()["measured"] == 0  # hourly: not again a minute later
        first = ScriptRun.objects.get()
        assert first.asked_by == cast.admin  # the check's creator
        scripts.request_run(cast.desk, check, source=Source.CLI)
        assert agent.cycle() == {"alive": True, "measured": 1, "delivered": 1}
        asked = ScriptRun.objects.exclude(pk=first.pk).get()
        assert asked.asked_by == cast.desk and asked.status == "ok"
        check.refresh_from_db()
        assert check.run_requested_at is None and check.run_requested_by is None
        assert agent.cycle()["measured"] == 0  # answered once, not again
    finally:
        agent.close()
