"""Enrolment tokens and agents in a real browser, on a desktop and a phone."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.monitoring import agents
from thirdway.monitoring.models import Agent, AgentEnrolmentToken

# Set THIRDWAY_SCREENSHOTS to a directory to keep what the browser saw.
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_a_partner_makes_a_token_and_revokes_an_agent(cast, live_server, browser):
    from playwright.sync_api import expect

    url = live_server.url
    agents_page = f"/monitoring/clients/{cast.acme.pk}/agents/"
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        _, token = agents.issue_enrolment_token(cast.admin, cast.acme, source=Source.CLI)
        agent, _ = agents.enrol(
            token,
            hostname=f"srv-{screen}",
            os_name="Debian",
            os_version="12",
            agent_version="0.1.0",
        )
        agents.record_inventory(
            agent,
            {
                "hostname": f"srv-{screen}",
                "os_name": "Debian GNU/Linux",
                "os_version": "12 (bookworm)",
                "cpu_model": "Intel(R) Xeon(R) E-2224",
                "cpu_count": 4,
                "memory_bytes": 16 * 1024**3,
                "disks": [
                    {
                        "mount": "/",
                        "device": "/dev/sda1",
                        "fstype": "ext4",
                        "total_bytes": 500 * 10**9,
                    }
                ],
                "interfaces": [
                    {
                        "name": "eth0",
                        "mac": "52:54:00:12:34:56",
                        "addresses": ["192.0.2.10", "fe80::1"],
                    }
                ],
                "boot_time": "2026-12-01T06:00:00+00:00",
                "users": ["alice"],
            },
        )
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, url, "paula", agents_page)
        expect(page.locator("h1")).to_have_text("Agents · Acme Bakery")
        row = page.locator(f"#agent-{agent.pk}")
        expect(row).to_contain_text("Debian GNU/Linux 12 (bookworm)")
        assert fits(page), screen
        _shot(page, f"agents-{screen}")

        page.get_by_role("link", name="Enrolment tokens").click()
        expect(page.locator("select[name=hours]")).to_be_visible()
        # A tampered form (no browser offers 0 hours) is refused, beside the form.
        page.evaluate("() => { document.querySelector('select[name=hours] option').value = '0'; }")
        page.locator("select[name=hours]").select_option(index=0)
        page.get_by_role("button", name="Make a token").click()
        expect(page.get_by_role("alert")).to_contain_text("Choose how long")
        assert fits(page), screen
        _shot(page, f"agent-tokens-invalid-{screen}")
        before = AgentEnrolmentToken.objects.count()
        page.locator("select[name=site]").select_option(label="Bakery")
        page.locator("select[name=hours]").select_option("168")
        page.locator("input[name=note]").fill("file server")
        page.get_by_role("button", name="Make a token").click()
        expect(page.locator("#new-secret")).to_contain_text("twen_")
        assert AgentEnrolmentToken.objects.count() == before + 1
        assert fits(page), screen
        _shot(page, f"agent-tokens-{screen}")

        page.goto(f"{url}{agents_page}")
        page.get_by_role("link", name=f"srv-{screen}").click()
        expect(page.locator("h1")).to_have_text(f"srv-{screen}")
        expect(page.get_by_text("memory_bytes")).to_be_visible()
        assert fits(page), screen
        _shot(page, f"agent-inventory-{screen}")

        page.goto(f"{url}{agents_page}")
        page.get_by_role("button", name=f"Revoke srv-{screen}").click()
        expect(page.get_by_role("status")).to_contain_text(f"srv-{screen} revoked")
        expect(page.locator(f"#agent-{agent.pk}")).to_contain_text("Revoked")
        assert Agent.objects.get(pk=agent.pk).revoked_at is not None
        page.context.close()
