"""A run in a real browser: refused without evidence (beside the field), done with it; the
pages fit a desktop and a phone (screenshots kept under PLAYBOOK_SHOTS when it is set)."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.playbooks import services


@pytest.mark.browser
def test_a_partner_completes_a_step_with_evidence_and_is_refused_without(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    playbook = services.copy_builtin(
        cast.admin, "user_onboarding", practice_id=cast.security.pk, source=Source.CLI
    )
    url = live_server.url
    shots = os.environ.get("PLAYBOOK_SHOTS")
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", f"/playbooks/{playbook.pk}/")
    expect(page.get_by_role("heading", name="User onboarding at a client")).to_be_visible()
    page.get_by_label("Client").select_option(label="Acme Bakery")
    page.get_by_role("button", name="Start for this client").click()
    expect(page.locator("#pb-progress")).to_have_text("0 of 4 steps done")

    first = page.locator("#step-1")
    first.get_by_role("button", name="Complete step").click()
    expect(page.locator("#step-1 .field.invalid .error")).to_contain_text("needs evidence")
    page.locator("#step-1 textarea, #step-1 input[type=text]").first.fill("bob@acme.example")
    page.locator("#step-1").get_by_role("button", name="Complete step").click()
    expect(page.locator("#pb-progress")).to_have_text("1 of 4 steps done")
    expect(page.locator("#step-1 .pb-evidence")).to_contain_text("bob@acme.example")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/run-desktop.png", full_page=True)
        for path, name in (
            (f"/playbooks/{playbook.pk}/", "template"),
            ("/playbooks/", "list"),
            ("/playbooks/schedules/", "schedules"),
        ):
            page.goto(url + path)
            page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    for path, name in (("/playbooks/runs/", "runs"), (f"/playbooks/{playbook.pk}/", "template")):
        page.goto(url + path)
        assert fits(page), path
        if shots:
            page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    page.goto(url + "/playbooks/runs/")
    page.get_by_role("link", name="User onboarding at a client").click()
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/run-phone.png", full_page=True)
