"""Two conditions combined with "any" in the step editor of a real browser: a word where a
number is compared is refused beside its field, then the step is saved and a run decides it
(screenshots kept under PLAYBOOK_SHOTS when it is set)."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in

from .branchy import book


@pytest.mark.browser
def test_a_partner_combines_a_number_and_an_answer_with_or(cast, live_server, browser):
    from playwright.sync_api import expect

    steps = [
        {"title": "Users at the site", "evidence": "value"},
        {"title": "Needs remote access?", "evidence": "yes_no"},
        {"title": "Set up the VPN concentrator"},
    ]
    playbook = book(cast, steps, "Branch office")
    url, shots = live_server.url, os.environ.get("PLAYBOOK_SHOTS")
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", f"/playbooks/{playbook.pk}/steps/3/")
    page.get_by_label("Only if step").fill("1")
    page.get_by_label("Its answer").select_option("gt")
    page.get_by_label("Value").fill("many")
    page.get_by_label("Condition 2: step").fill("2")
    page.get_by_label("Condition 2: answer").select_option("equals")
    page.get_by_label("Condition 2: compared with").fill("yes")
    page.get_by_label("Applies when").select_option("any")
    page.get_by_role("button", name="Save").click()
    error = page.locator(".field.invalid .error")
    expect(error).to_contain_text("not one")
    expect(error).to_contain_text("a number")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/conditions-refused-desktop.png", full_page=True)
    page.get_by_label("Value").fill("50")
    page.get_by_label("Condition 2: compared with").fill("perhaps")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid .error")).to_contain_text("yes or no")
    page.get_by_label("Condition 2: compared with").fill("yes")
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text('Only if step 1 is greater than "50" or step 2 equals "yes"')
    ).to_be_visible()
    page.get_by_role("button", name="Publish version 2").click()
    page.get_by_label("Client").select_option(label="Acme Bakery")
    page.get_by_role("button", name="Start for this client").click()
    page.locator("#step-1").get_by_label("Value").fill("12")
    page.locator("#step-1").get_by_role("button", name="Complete step").click()
    expect(page.locator("#pb-progress")).to_have_text("1 of 3 steps done")
    page.locator("#step-2").get_by_label("Answer").select_option("no")
    page.locator("#step-2").get_by_role("button", name="Complete step").click()
    expect(page.locator("#step-3 .pb-na-note")).to_contain_text("Not applicable")
    if shots:
        page.screenshot(path=f"{shots}/conditions-run-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/playbooks/{playbook.pk}/steps/3/")
    expect(page.get_by_label("Applies when")).to_have_value("any")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/conditions-edit-phone.png", full_page=True)
