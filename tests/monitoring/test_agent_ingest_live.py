"""The real agent package against a served instance whose agents' heartbeats and results take
the lean path in front of Django (as ``thirdway serve`` runs it): a failing check opens its
alert, last seen arrives with the flush, a real 429 is honoured, a revoked agent is refused."""

from __future__ import annotations

import time

import pytest
from thirdway_agent import cli
from thirdway_agent.client import Unauthorized

from thirdway.audit.models import Source
from thirdway.monitoring import agents, ingest, ingest_store
from thirdway.monitoring.ingest_wsgi import LeanIngest
from thirdway.monitoring.models import Agent, AgentBatch, Alert, CheckResult

from .test_agent_live import add_check, enrolled, machine  # noqa: F401 - the fixture


@pytest.fixture
def lean_server(live_server, monkeypatch):
    """The live server with the lean path in front of its Django handler."""
    monkeypatch.setattr(ingest_store.SeenBuffer, "flush_in_background", False)
    ingest.forget_everything()
    httpd = live_server.thread.httpd
    django = httpd.get_app()
    httpd.set_app(LeanIngest(django))
    yield live_server
    httpd.set_app(django)
    ingest.forget_everything()
    ingest_store.seen_later.discard()


@pytest.fixture
def lean_enrolled(lean_server, enrolled):  # noqa: F811 - the fixture imported above
    return enrolled


def test_a_failing_check_through_the_lean_path_opens_an_alert(cast, lean_enrolled, capsys):
    check = add_check(
        cast, name="Root disk", kind="agent_metric", metric="disk:/", critical_threshold=0.001
    )
    Agent.objects.update(last_seen_at=None)
    assert cli.main(["--config", str(lean_enrolled), "once"]) == 0
    assert capsys.readouterr().out.strip().endswith('"delivered": 1}')
    check.refresh_from_db()
    assert check.status == "critical"
    assert Alert.objects.get(check_obj=check).ticket is not None
    assert Agent.objects.get().last_seen_at is None  # coalesced until the flush
    ingest_store.seen_later.flush()
    assert Agent.objects.get().last_seen_at is not None
    agent = machine(lean_enrolled)
    assert agent.deliver() == 0 and agent.buffer.count() == 0
    agent.close()
    assert CheckResult.objects.filter(check_obj=check).count() == AgentBatch.objects.count() == 1


def test_the_agent_honours_the_servers_own_429(cast, lean_enrolled, settings):
    settings.AGENT_INGEST_IN_FLIGHT = 1
    settings.AGENT_RETRY_AFTER_SECONDS = 30
    agent = machine(lean_enrolled)
    assert ingest.gate.enter()
    try:
        assert agent.heartbeat() is False
        assert 25 < agent.wait_until - time.time() <= 30
    finally:
        ingest.gate.leave()
        agent.close()


def test_a_revoked_agent_is_refused_by_the_lean_path(cast, lean_enrolled, capsys):
    agent = machine(lean_enrolled)
    assert agent.heartbeat() is not False  # now trusted for a while
    agents.revoke_agent(cast.partner, Agent.objects.get(), source=Source.CLI)
    with pytest.raises(Unauthorized):
        agent.server.heartbeat("", 0, 0)
    agent.close()
