"""A sale in a real browser: a partner enters a lead (refused beside the field first), opens
an opportunity, writes and sends a proposal; the prospect, signed in as nobody, accepts it from
the link (refused without the tick first). Pages fit a desktop and a phone (screenshots kept
under SALES_SHOTS when it is set)."""

from __future__ import annotations

import os
import re

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.clients.models import Client
from thirdway.playbooks.models import Run
from thirdway.sales.models import Opportunity


def shoot(page, name: str) -> None:
    shots = os.environ.get("SALES_SHOTS")
    assert fits(page), name
    if shots:
        page.screenshot(path=f"{shots}/{name}.png", full_page=True)


@pytest.mark.browser
def test_a_partner_takes_a_lead_to_a_proposal_the_prospect_accepts(
    cast, policy, live_server, browser
):
    from playwright.sync_api import expect

    url = live_server.url
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", "/sales/")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    page.fill("input[name=lead-company]", "Fromagerie Vidal")
    page.fill("input[name=lead-contact_name]", "Lucie Vidal")
    page.fill("input[name=lead-contact_email]", "lucie@vidal")
    page.select_option("select[name=lead-source]", "referral")
    page.get_by_role("button", name="Add the lead").click()
    expect(page.locator(".field.invalid .error").first).to_be_visible()
    shoot(page, "lead-refused-desktop")
    page.fill("input[name=lead-contact_email]", "lucie@fromagerie-vidal.example")
    page.select_option("select[name=lead-referrer]", label="Oscar Other")
    page.fill("input[name=lead-town]", "Annecy")
    page.get_by_label("Security").check()
    page.get_by_role("button", name="Add the lead").click()
    expect(page.get_by_role("heading", name="Fromagerie Vidal")).to_be_visible()
    expect(page.locator("#lead-state")).to_have_text("New")

    page.fill("input[name=deal-title]", "Vidal managed IT")
    page.fill("input[name=deal-monthly_value]", "450")
    page.get_by_role("button", name="Create the opportunity").click()
    expect(page.locator("#deal-stage")).to_have_text("Discovery")
    page.fill("input[name=proposal-line1_description]", "Managed workstations")
    page.fill("input[name=proposal-line1_quantity]", "6")
    page.fill("input[name=proposal-line1_unit_price]", "55")
    page.fill("input[name=proposal-line2_description]", "Firewall")
    page.get_by_role("button", name="Write the proposal").click()
    expect(page.locator(".field.invalid .error").first).to_contain_text("Give a quantity")
    shoot(page, "opportunity-desktop")
    page.fill("input[name=proposal-line2_quantity]", "1")
    page.fill("input[name=proposal-line2_unit_price]", "120")
    page.select_option("select[name=proposal-sla_policy]", label="Business")
    page.get_by_role("button", name="Write the proposal").click()
    expect(page.locator("#proposal-total")).to_have_text("450.00")
    page.get_by_role("button", name="Send: make the link").click()
    link = page.locator("#proposal-link").get_attribute("href")
    assert re.fullmatch(r"https?://\S+/sales/p/\S+/", link)
    shoot(page, "proposal-desktop")

    deal = Opportunity.objects.get(title="Vidal managed IT")
    page.goto(f"{url}/sales/board/?practice={deal.practice_id}")
    expect(page.locator(f"#card-{deal.pk}")).to_be_visible()
    shoot(page, "board-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, "board-phone")
    page.goto(f"{url}/sales/opportunities/{deal.pk}/")
    shoot(page, "opportunity-phone")
    page.goto(f"{url}/sales/")
    shoot(page, "leads-phone")

    prospect = browser.new_context(viewport=DESKTOP).new_page()
    prospect.set_default_timeout(20_000)
    prospect.goto(link)
    expect(prospect.get_by_role("heading", name="Proposal for Fromagerie Vidal")).to_be_visible()
    shoot(prospect, "public-desktop")
    prospect.fill("input[name=accept-name]", "Lucie Vidal")
    prospect.get_by_role("button", name="Accept the proposal").click()
    expect(prospect.locator(".field.invalid .error")).to_be_visible()
    prospect.get_by_label("I accept this proposal").check()
    prospect.get_by_role("button", name="Accept the proposal").click()
    expect(prospect.locator("#public-answer")).to_contain_text("Accepted by Lucie Vidal")
    prospect.set_viewport_size(PHONE)
    shoot(prospect, "public-accepted-phone")

    client = Client.objects.get(name="Fromagerie Vidal")
    assert Run.objects.filter(client=client).count() == 1
    deal.refresh_from_db()
    assert deal.stage == "won" and deal.contract.status == "draft"
    assert deal.contract.originator == cast.other_partner_record
    page.set_viewport_size(DESKTOP)
    page.goto(f"{url}/sales/opportunities/{deal.pk}/")
    expect(page.locator("#deal-won")).to_contain_text("Fromagerie Vidal")
    shoot(page, "won-desktop")
    page.get_by_role("link", name=deal.contract.name).click()
    expect(page.locator("#contract-status")).to_contain_text("Draft")
    shoot(page, "contract-desktop")
