"""The new kinds of checks in the editor (a LAN port through the agent, a DNS answer, a
heartbeat on a cron schedule) and "Run now" on a script check, in a real browser."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import agents, scripts, services
from thirdway.monitoring.models import Check

# Set THIRDWAY_SCREENSHOTS to a directory to keep what the browser saw.
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _field(page, name: str):
    return page.locator(".field.invalid", has=page.locator(f"[name={name}]"))


@pytest.mark.browser
def test_the_new_kinds_are_made_in_the_editor_and_a_refusal_sits_by_its_field(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    _, token = agents.issue_enrolment_token(cast.admin, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-office")
    new = f"{live_server.url}/monitoring/clients/{cast.acme.pk}/checks/new/"
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_server.url, "paula", f"/monitoring/clients/{cast.acme.pk}/checks/new/")
        # A LAN switch's port, through the agent: a port out of range is refused by its field.
        page.locator("input[name=name]").fill(f"Switch {screen}")
        page.locator("select[name=kind]").select_option("agent_tcp")
        page.locator("select[name=agent]").select_option(str(agent.pk))
        page.locator("input[name=target]").fill("192.168.1.2")
        page.locator("input[name=port]").fill("70000")
        page.get_by_role("button", name="Save").click()
        expect(_field(page, "port")).to_be_visible()
        assert not Check.objects.filter(name=f"Switch {screen}").exists()
        assert fits(page), screen
        _shot(page, f"lan-invalid-{screen}")
        page.locator("input[name=port]").fill("22")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_have_text(f"Switch {screen}")
        expect(page.get_by_text("Agent: TCP port of a LAN device")).to_be_visible()
        _shot(page, f"lan-check-{screen}")

        # A DNS answer: a private resolver is refused for a partner, beside the field.
        page.goto(new)
        page.locator("input[name=name]").fill(f"MX {screen}")
        page.locator("select[name=kind]").select_option("dns")
        page.locator("input[name=target]").fill("acme.example")
        page.locator("select[name=record_type]").select_option("MX")
        page.locator("input[name=expected_answer]").fill("mail.acme.example")
        page.locator("input[name=resolver]").fill("10.0.0.53")
        page.get_by_role("button", name="Save").click()
        expect(_field(page, "resolver")).to_contain_text("10.0.0.53 is")
        page.locator("input[name=resolver]").fill("9.9.9.9")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_have_text(f"MX {screen}")
        made = Check.objects.get(name=f"MX {screen}")
        assert (made.record_type, made.resolver) == ("MX", "9.9.9.9")

        # A heartbeat on a schedule that never fires is refused; a nightly one is kept.
        page.goto(new)
        page.locator("input[name=name]").fill(f"Backup {screen}")
        page.locator("select[name=kind]").select_option("heartbeat")
        page.locator("input[name=cron_expression]").fill("0 0 30 2 *")
        page.get_by_role("button", name="Save").click()
        expect(_field(page, "cron_expression")).to_contain_text("never fires")
        _shot(page, f"cron-invalid-{screen}")
        page.locator("input[name=cron_expression]").fill("0 2 * * *")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_have_text(f"Backup {screen}")
        expect(page.get_by_text("on the schedule 0 2 * * *")).to_be_visible()
        assert fits(page), screen
        _shot(page, f"cron-check-{screen}")
        page.context.close()


@pytest.mark.browser
def test_the_desk_runs_a_script_now_and_a_partner_is_not_offered_it(cast, live_server, browser):
    from playwright.sync_api import expect

    _, token = agents.issue_enrolment_token(cast.admin, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-office")
    script = scripts.create_script(
        cast.admin,
        cast.security,
        name="Backups",
        interpreter="sh",
        body="exit 0\n",
        source=Source.CLI,
    )
    check = services.create_check(
        cast.admin,
        cast.acme,
        name="Backups",
        kind="agent_script",
        agent_id=agent.pk,
        script_id=script.pk,
        source=Source.CLI,
    )
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        Check.objects.filter(pk=check.pk).update(run_requested_at=None, run_requested_by=None)
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_server.url, "paula", f"/monitoring/checks/{check.pk}/")
        expect(page.get_by_text("Practice admins and the desk can run")).to_be_visible()
        expect(page.get_by_role("button", name="Run the script now")).to_have_count(0)
        page.context.close()

        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_server.url, cast.desk.username, f"/monitoring/checks/{check.pk}/")
        page.get_by_role("button", name="Run the script now").click()
        expect(page.get_by_text("Run asked for")).to_be_visible()
        expect(page.locator(".mon-run-now")).to_contain_text("A run was asked for by")
        check.refresh_from_db()
        assert check.run_requested_by == cast.desk
        assert fits(page), screen
        _shot(page, f"run-now-{screen}")
        page.context.close()
