"""Editing a condition in a real browser: refused beside its field when it reads no answer,
saved when it does; then a run answered "no" shows the step as not applicable (screenshots
kept under PLAYBOOK_SHOTS when it is set)."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in

from .branchy import book


@pytest.mark.browser
def test_a_partner_sets_a_condition_and_sees_the_step_become_not_applicable(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    steps = [
        {"title": "Needs remote access?", "evidence": "yes_no"},
        {"title": "Set up the VPN"},
        {"title": "Hand over the laptop"},
    ]
    playbook = book(cast, steps, "Remote worker")
    url, shots = live_server.url, os.environ.get("PLAYBOOK_SHOTS")
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", f"/playbooks/{playbook.pk}/steps/2/")
    page.get_by_label("Only if step").fill("3")
    page.get_by_label("Its answer").select_option("equals")
    page.get_by_label("Value").fill("yes")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid .error")).to_contain_text("comes later")
    expect(page.locator(".field.invalid .error")).to_contain_text("1")
    if shots:
        page.screenshot(path=f"{shots}/condition-refused-desktop.png", full_page=True)
    page.get_by_label("Only if step").fill("1")
    page.get_by_label("Value").fill("maybe")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid .error")).to_contain_text("yes or no")
    page.get_by_label("Value").fill("yes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text('Only if step 1 equals "yes"')).to_be_visible()
    page.get_by_role("button", name="Publish version 2").click()
    if shots:
        page.screenshot(path=f"{shots}/condition-template-desktop.png", full_page=True)
    page.get_by_label("Client").select_option(label="Acme Bakery")
    page.get_by_role("button", name="Start for this client").click()
    expect(page.locator("#pb-progress")).to_have_text("0 of 3 steps done")
    page.locator("#step-1").get_by_label("Answer").select_option("no")
    page.locator("#step-1").get_by_role("button", name="Complete step").click()
    expect(page.locator("#step-2 .pb-na-note")).to_contain_text("Not applicable")
    expect(page.locator("#pb-progress")).to_have_text("1 of 2 steps done")
    expect(page.locator("#pb-na")).to_contain_text("1 not applicable")
    expect(page.locator("#step-2").get_by_role("button", name="Complete step")).to_have_count(0)
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/condition-run-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/condition-run-phone.png", full_page=True)
    page.goto(f"{url}/playbooks/{playbook.pk}/steps/2/")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/condition-edit-phone.png", full_page=True)
