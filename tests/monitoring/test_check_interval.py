"""The check editor's interval: chosen by the person within 30 to 86400 s, or left blank for
the kind's own default (an agent check is not given the server checks' 300 s)."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import agents
from thirdway.monitoring.models import Check

SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")
TCP = {
    "name": "Portal",
    "kind": "tcp",
    "target": "portal.acme.example",
    "port": "443",
    "expected_status": "200",
    "period_seconds": "86400",
    "grace_seconds": "3600",
    "retry_interval_seconds": "10",
    "max_attempts": "3",
    "timeout_seconds": "10",
    "dependency_delay_seconds": "120",
    "opens_tickets": "on",
}


@pytest.fixture
def agent(cast):
    _, token = agents.issue_enrolment_token(cast.admin, cast.acme, source=Source.CLI)
    found, _ = agents.enrol(token, hostname="srv-office")
    return found


def _new(cast) -> str:
    return f"/monitoring/clients/{cast.acme.pk}/checks/new/"


def test_a_blank_interval_is_the_kinds_default(cast, web_as, agent):
    browser = web_as(cast.partner)
    assert browser.post(_new(cast), {**TCP, "interval_seconds": ""}).status_code == 302
    assert Check.objects.get(name="Portal").interval_seconds == 300
    process = {**TCP, "name": "Backup job", "kind": "agent_process", "target": "restic"}
    process |= {"agent": str(agent.pk), "port": "", "interval_seconds": ""}
    response = browser.post(_new(cast), process)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Check.objects.get(name="Backup job").interval_seconds == 60


def test_a_chosen_interval_is_kept_and_one_out_of_bounds_is_refused(cast, web_as):
    browser = web_as(cast.partner)
    for bad, said in (
        ("20", "greater than or equal to 30"),
        ("86401", "less than or equal to 86400"),
    ):
        html = browser.post(_new(cast), {**TCP, "interval_seconds": bad}).content.decode()
        assert 'class="field invalid"' in html and said in html
        assert not Check.objects.filter(name="Portal").exists()
    assert browser.post(_new(cast), {**TCP, "interval_seconds": "900"}).status_code == 302
    check = Check.objects.get(name="Portal")
    assert check.interval_seconds == 900
    edit = f"/monitoring/checks/{check.pk}/edit/"
    assert 'value="900"' in browser.get(edit).content.decode()
    browser.post(edit, {**TCP, "interval_seconds": "120"})
    check.refresh_from_db()
    assert check.interval_seconds == 120


@pytest.mark.browser
def test_the_interval_is_chosen_in_the_editor(cast, live_server, browser):
    from playwright.sync_api import expect

    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        Check.objects.filter(name="Portal").delete()
        page = browser.new_context(viewport=size).new_page()
        sign_in(page, live_server.url, "paula", _new(cast))
        interval = page.locator("input[name=interval_seconds]")
        expect(interval).to_have_value("")
        page.locator("input[name=name]").fill("Portal")
        page.locator("select[name=kind]").select_option("tcp")
        page.locator("input[name=target]").fill("portal.acme.example")
        page.locator("input[name=port]").fill("443")
        interval.fill("90000")
        page.get_by_role("button", name="Save").click()
        invalid = page.locator(".field.invalid", has=page.locator("[name=interval_seconds]"))
        expect(invalid.locator(".error")).to_contain_text("86400")
        assert not Check.objects.filter(name="Portal").exists()
        assert fits(page), screen
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/interval-invalid-{screen}.png", full_page=True)
        page.locator("input[name=interval_seconds]").fill("600")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("added.")).to_be_visible()
        assert Check.objects.get(name="Portal").interval_seconds == 600
