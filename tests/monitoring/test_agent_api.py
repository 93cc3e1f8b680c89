"""The agent's side of the API (enrol, heartbeat, results, inventory) and the staff's side
(enrolment tokens, agents), through HTTP with the OpenAPI contract checked on each answer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from support.api import API, send
from thirdway.audit.models import Source
from thirdway.clients.models import Asset
from thirdway.monitoring import agents, pending_results, services
from thirdway.monitoring.models import (
    Agent,
    AgentBatch,
    AgentEnrolmentToken,
    Alert,
    AssetChange,
    CheckEvent,
    CheckResult,
)
from thirdway.tickets.models import Ticket

AGENT = API + "/monitoring/agent"


def as_agent(secret: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {secret}"})


def enrol(cast, hostname="srv-files", site=None):
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, site=site, source=Source.CLI)
    agent, secret = agents.enrol(token, hostname=hostname, os_name="Debian GNU/Linux")
    return agent, secret


def disk_check(cast, agent, **extra):
    data = {
        "name": "Disk /",
        "kind": "agent_metric",
        "agent_id": agent.pk,
        "metric": "disk:/",
        "warning_threshold": 80.0,
        "critical_threshold": 90.0,
        "max_attempts": 1,
        **extra,
    }
    return services.create_check(cast.admin, cast.acme, source=Source.CLI, **data)


def result(check, value, at=None, **extra):
    at = at or timezone.now()
    return {"check_id": check.pk, "collected_at": at.isoformat(), "value": value, **extra}


def batch(secret, batch_id, results, *, evaluate=True):
    """Post a batch; then, unless told not to, evaluate what it stored, as the worker does
    after the answer."""
    body = {"batch_id": batch_id, "results": results}
    answer = send(as_agent(secret), "post", f"{AGENT}/results", body)
    if evaluate:
        pending_results.evaluate_pending()
    return answer


def test_staff_make_a_token_by_api_and_a_machine_enrols_with_it_once(cast, api_as):
    made = send(
        api_as(cast.partner),
        "post",
        f"{API}/monitoring/agent-tokens",
        {"client": cast.acme.pk, "site": cast.acme_site.pk, "hours": 2, "note": "rack"},
    )
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    assert secret.startswith("twen_")
    stored = AgentEnrolmentToken.objects.get()
    assert secret not in json.dumps(list(AgentEnrolmentToken.objects.values()), default=str)
    enrolling = {"token": secret, "hostname": "SRV1", "os_name": "Debian", "os_version": "12"}
    answer = send(HttpClient(), "post", f"{AGENT}/enrol", enrolling)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["secret"].startswith("twag_") and body["config"]["interval_seconds"] == 60
    assert "server_time" in body and answer.headers["Thirdway-Server-Time"]
    agent = Agent.objects.get()
    assert agent.client == cast.acme and agent.site_id == stored.site_id
    assert agent.asset.name == "SRV1" and agent.asset.client == cast.acme
    again = send(HttpClient(), "post", f"{AGENT}/enrol", {**enrolling, "hostname": "other"})
    assert again.status_code == 401 and again.json() == {"detail": "Unauthorized."}
    assert Agent.objects.count() == 1


def test_an_agent_on_a_known_host_name_takes_the_clients_asset(cast):
    existing = Asset.objects.create(client=cast.acme, name="nas1", kind="server")
    agent, _ = enrol(cast, hostname="NAS1")
    assert agent.asset == existing


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
def test_an_expired_revoked_or_unknown_token_enrols_nothing(cast, state):
    token, secret = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    if state == "expired":
        AgentEnrolmentToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif state == "revoked":
        agents.revoke_enrolment_token(cast.partner, token, source=Source.CLI)
    else:
        secret = "twen_" + "x" * 40
    answer = send(HttpClient(), "post", f"{AGENT}/enrol", {"token": secret, "hostname": "h"})
    assert answer.status_code == 401 and answer.json() == {"detail": "Unauthorized."}
    assert not Agent.objects.exists()


def test_people_who_may_not_manage_monitoring_make_no_tokens(cast, api_as):
    for user in (cast.associate, cast.client_admin):
        answer = send(
            api_as(user), "post", f"{API}/monitoring/agent-tokens", {"client": cast.acme.pk}
        )
        assert answer.status_code in (403, 400), answer.content
    outsider = send(api_as(cast.outsider), "get", f"{API}/monitoring/agents")
    assert outsider.status_code == 200 and outsider.json()["items"] == []
    assert not AgentEnrolmentToken.objects.exists()


def test_a_heartbeat_hands_the_checks_and_writes_last_seen_at_most_every_30_s(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    sent_at = (timezone.now() + dt.timedelta(seconds=90)).isoformat()
    body = {"sent_at": sent_at, "buffered": 3, "dropped": 2}
    Agent.objects.update(last_seen_at=timezone.now() - dt.timedelta(seconds=31))
    first = send(as_agent(secret), "post", f"{AGENT}/heartbeat", body)
    assert first.status_code == 200, first.content
    config = first.json()["config"]
    assert [c["id"] for c in config["checks"]] == [check.pk]
    assert 85 < first.json()["skew_seconds"] < 95
    seen = Agent.objects.get().last_seen_at
    assert (Agent.objects.get().results_buffered, Agent.objects.get().results_dropped) == (3, 2)
    again = send(as_agent(secret), "post", f"{AGENT}/heartbeat", {"etag": config["etag"]})
    assert again.json()["config"]["checks"] is None  # nothing changed
    assert Agent.objects.get().last_seen_at == seen  # coalesced
    Agent.objects.update(last_seen_at=timezone.now() - dt.timedelta(seconds=31))
    send(as_agent(secret), "post", f"{AGENT}/heartbeat", {})
    assert Agent.objects.get().last_seen_at > seen


def test_a_failing_disk_result_opens_an_alert_and_a_ticket(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    answer = batch(secret, "batch-0001", [result(check, 96.5, output="Disk / 97 % used")])
    assert answer.status_code == 200, answer.content
    assert answer.json()["accepted"] == 1 and answer.json()["duplicate"] is False
    check.refresh_from_db()
    assert check.status == "critical"
    alert = Alert.objects.get(check_obj=check)
    assert alert.ticket is not None and alert.ticket.client == cast.acme


def test_a_batch_sent_again_is_stored_once(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    results = [result(check, 50.0), result(check, 97.0)]
    first = batch(secret, "batch-retry-1", results)
    second = batch(secret, "batch-retry-1", results)
    assert first.json()["accepted"] == second.json()["accepted"] == 2
    assert second.json()["duplicate"] is True
    assert CheckResult.objects.filter(check_obj=check).count() == 2
    assert Alert.objects.count() == 1 and Alert.objects.get().repeats == 0
    assert AgentBatch.objects.count() == 1


def test_a_problem_that_opened_and_closed_during_an_outage_is_history_not_a_ticket(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    start = timezone.now() - dt.timedelta(minutes=40)
    results = [
        result(check, 40.0, at=start),
        result(check, 97.0, at=start + dt.timedelta(minutes=10)),
        result(check, 98.0, at=start + dt.timedelta(minutes=11)),
        result(check, 41.0, at=start + dt.timedelta(minutes=20)),
    ]
    answer = batch(secret, "outage-0001", list(reversed(results)))  # order does not matter
    assert answer.json()["accepted"] == 4
    check.refresh_from_db()
    assert check.status == "ok" and check.suppressed == ""
    assert not Alert.objects.exists() and not Ticket.objects.exists()
    texts = list(CheckEvent.objects.filter(check_obj=check).values_list("text", flat=True))
    assert any(text.startswith("Down") for text in texts)  # the outage's problem is history
    assert any("delivered late" in text for text in texts)


def test_a_problem_still_there_after_an_outage_opens_its_alert_with_the_next_result(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    late = timezone.now() - dt.timedelta(minutes=30)
    batch(secret, "outage-0002", [result(check, 97.0, at=late)])
    assert not Alert.objects.exists()
    check.refresh_from_db()
    assert check.status == "critical" and "delivered late" in check.suppressed
    batch(secret, "current-0003", [result(check, 97.5)])
    assert Alert.objects.get(check_obj=check).ticket is not None


def test_a_result_for_a_check_the_agent_does_not_own_is_refused(cast):
    agent, secret = enrol(cast)
    other, _ = enrol(cast, hostname="srv-other")
    mine, theirs = disk_check(cast, agent), disk_check(cast, other, name="Other disk")
    answer = batch(secret, "mixed-0001", [result(mine, 10.0), result(theirs, 99.0)])
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1
    assert [r["index"] for r in answer.json()["refused"]] == [1]
    assert not CheckResult.objects.filter(check_obj=theirs).exists()


@pytest.mark.parametrize("secret", ["", "twag_unknown", "tw_not-an-agent"])
def test_an_unknown_secret_is_a_bare_401(cast, secret):
    client = as_agent(secret) if secret else HttpClient()
    for path in ("heartbeat", "results", "inventory"):
        answer = send(client, "post", f"{AGENT}/{path}", {})
        assert answer.status_code == 401
        assert answer.json() == {"detail": "Unauthorized."}


def test_a_revoked_agent_is_refused_and_its_checks_stay(cast, api_as):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    answer = send(api_as(cast.partner), "delete", f"{API}/monitoring/agents/{agent.pk}")
    assert answer.status_code == 200 and answer.json()["revoked_at"]
    refused = send(as_agent(secret), "post", f"{AGENT}/heartbeat", {})
    assert refused.status_code == 401 and refused.json() == {"detail": "Unauthorized."}
    check.refresh_from_db()


def test_an_oversize_batch_is_a_413_and_a_malformed_one_a_400_naming_the_field(cast):
    agent, secret = enrol(cast)
    check = disk_check(cast, agent)
    big = [result(check, 1.0, output="x" * 500)] * 2_500
    answer = batch(secret, "too-big-0001", big)
    assert answer.status_code == 413
    assert answer.json()["limit_bytes"] == 1024 * 1024
    too_many = batch(secret, "too-many-01", [result(check, 1.0)] * 1_001)
    assert too_many.status_code == 400
    bad = batch(secret, "bad-0000001", [{"check_id": check.pk, "collected_at": "yesterday"}])
    assert bad.status_code == 400
    assert any("collected_at" in e["field"] for e in bad.json()["errors"])
    assert not CheckResult.objects.exists() and not AgentBatch.objects.exists()


def test_inventory_updates_the_asset_and_records_what_changed(cast):
    agent, secret = enrol(cast)
    inventory = {
        "hostname": "srv-files",
        "os_name": "Debian GNU/Linux",
        "os_version": "12 (bookworm)",
        "serial": "SN-1234",
        "cpu_count": 4,
        "memory_bytes": 8 * 1024**3,
        "disks": [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4", "total_bytes": 10**11}],
        "interfaces": [{"name": "eth0", "mac": "aa:bb", "addresses": ["192.0.2.5"]}],
        "boot_time": "2026-12-01T06:00:00+00:00",
        "users": ["alice"],
    }
    first = send(as_agent(secret), "post", f"{AGENT}/inventory", inventory)
    assert first.status_code == 200, first.content
    asset = Asset.objects.get(pk=agent.asset_id)
    assert asset.operating_system == "Debian GNU/Linux 12 (bookworm)" and asset.serial == "SN-1234"
    again = send(
        as_agent(secret),
        "post",
        f"{AGENT}/inventory",
        {**inventory, "memory_bytes": 16 * 1024**3, "users": ["alice", "bob"]},
    )
    assert sorted(again.json()["changed"]) == ["memory_bytes", "users"]
    change = AssetChange.objects.filter(field="memory_bytes").order_by("-id").first()
    assert change.before == str(8 * 1024**3) and change.after == str(16 * 1024**3)


def test_agent_checks_need_an_agent_of_the_client_and_what_to_measure(cast, api_as):
    agent, _ = enrol(cast)
    client = api_as(cast.partner)
    base = {"client": cast.acme.pk, "name": "CPU", "kind": "agent_metric", "metric": "cpu"}
    missing = send(client, "post", f"{API}/monitoring/checks", {**base, "critical_threshold": 90})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "agent"
    wrong = send(
        client,
        "post",
        f"{API}/monitoring/checks",
        {**base, "agent": agent.pk, "metric": "load", "critical_threshold": 90},
    )
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "metric"
    made = send(
        client,
        "post",
        f"{API}/monitoring/checks",
        {**base, "agent": agent.pk, "critical_threshold": 90, "duration_seconds": 300},
    )
    assert made.status_code == 201, made.content
    assert made.json()["agent_id"] == agent.pk and made.json()["interval_seconds"] == 60
