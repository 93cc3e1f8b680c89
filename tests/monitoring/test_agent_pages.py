"""The agent pages: enrolment tokens, a client's agents, an agent's inventory; who sees what."""

from __future__ import annotations

import re

from thirdway.audit.models import Source
from thirdway.monitoring import agents
from thirdway.monitoring.models import Agent, AgentEnrolmentToken


def enrolled(cast, hostname="srv-files"):
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname=hostname, os_name="Debian", os_version="12")
    return agent


def test_a_partner_makes_a_token_for_a_site_and_sees_it_once(cast, web_as):
    page = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/agent-tokens/"
    answer = page.post(url, {"site": cast.acme_site.pk, "hours": 168, "note": "rack 2"})
    assert answer.status_code == 200
    secret = re.search(r'id="new-secret">(twen_[^<]+)<', answer.content.decode()).group(1)
    token = AgentEnrolmentToken.objects.get()
    assert token.site == cast.acme_site and token.note == "rack 2"
    assert round((token.expires_at - token.created_at).total_seconds() / 3600) == 168
    again = page.get(url).content.decode()
    assert secret not in again and token.prefix in again
    assert agents.enrol(secret, hostname="new-box") is not None


def test_a_refused_token_form_says_why_and_makes_nothing(cast, web_as):
    page = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/agent-tokens/"
    answer = page.post(url, {"site": cast.globex_site.pk, "hours": 24})
    assert "Choose one of the client&#x27;s sites." in answer.content.decode()
    answer = page.post(url, {"hours": 100_000})
    assert "1 to 720" in answer.content.decode()
    assert not AgentEnrolmentToken.objects.exists()


def test_the_agents_page_lists_last_seen_and_system_and_revokes(cast, web_as):
    agent = enrolled(cast)
    page = web_as(cast.partner)
    listed = page.get(f"/monitoring/clients/{cast.acme.pk}/agents/").content.decode()
    assert "srv-files" in listed and "Debian 12" in listed and "ago" in listed
    answer = page.post(f"/monitoring/agents/{agent.pk}/revoke/")
    assert answer.status_code == 302
    assert Agent.objects.get().revoked_at is not None
    assert agents.agent_for("twag_x") is None


def test_the_inventory_page_shows_the_machine_and_its_changes(cast, web_as):
    agent = enrolled(cast)
    agents.record_inventory(agent, {"hostname": "srv-files", "memory_bytes": 8 * 1024**3})
    agents.record_inventory(agent, {"hostname": "srv-files", "memory_bytes": 16 * 1024**3})
    shown = web_as(cast.associate).get(f"/monitoring/agents/{agent.pk}/").content.decode()
    assert "16.0\xa0GB" in shown or "16.0 GB" in shown
    assert shown.count("memory_bytes") == 2


def test_who_may_see_and_change_agents(cast, web_as):
    agent = enrolled(cast)
    tokens = f"/monitoring/clients/{cast.acme.pk}/agent-tokens/"
    assert web_as(cast.associate).get(tokens).status_code == 403
    assert web_as(cast.associate).post(f"/monitoring/agents/{agent.pk}/revoke/").status_code == 403
    assert web_as(cast.other_client_admin).get(f"/monitoring/agents/{agent.pk}/").status_code == 404
    assert (
        web_as(cast.client_user).get(f"/monitoring/clients/{cast.acme.pk}/agents/").status_code
        == 404
    )
    own = web_as(cast.client_admin).get(f"/monitoring/clients/{cast.acme.pk}/agents/")
    assert own.status_code == 200 and "Revoke" not in own.content.decode()
    assert Agent.objects.get().revoked_at is None


def test_an_agent_check_is_made_with_the_check_form(cast, web_as):
    agent = enrolled(cast)
    page = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/checks/new/"
    form = {
        "name": "Root disk",
        "kind": "agent_metric",
        "agent": agent.pk,
        "metric": "disk:/",
        "duration_seconds": "300",
        "critical_threshold": "90",
        "expected_status": "200",
        "period_seconds": "86400",
        "grace_seconds": "3600",
        "interval_seconds": "60",
        "retry_interval_seconds": "60",
        "max_attempts": "3",
        "timeout_seconds": "10",
        "dependency_delay_seconds": "120",
        "opens_tickets": "on",
    }
    refused = page.post(url, {**form, "metric": "load"}).content.decode()
    assert "cpu, memory or disk:/a/mount/point" in refused
    assert page.post(url, form).status_code == 302
    check = agent.checks.get()
    assert check.metric == "disk:/" and check.duration_seconds == 300
    assert agents.config_of(agent)["checks"][0]["duration_seconds"] == 300
