"""Shared tool costs, the clawback period and a share's tool drill-down in a real browser: a
refused form shows the error beside its field (nothing written), then it is accepted; the pages
at desktop and phone size."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.billing import services, tool_costs
from thirdway.billing.models import BillingSettings, Leg, ReferralClawback, ToolCost

from .test_sharing import approved_acme, leave, referred  # noqa: F401  (the fixture)

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


def shoot(page, shots: str, name: str) -> None:
    page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    assert fits(page), name
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_admin_adds_a_tool_and_sets_the_clawback_period(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/settings/{cast.security.pk}/")
    page.locator("input[name=clawback_months]").fill("40")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="Clawback months")).to_contain_text("36")
    assert BillingSettings.objects.get(practice=cast.security).clawback_months == 0
    page.locator("input[name=clawback_months]").fill("6")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert BillingSettings.objects.get(practice=cast.security).clawback_months == 6

    page.locator("#tools-link a").click()
    expect(page.locator("#clawback-period")).to_contain_text("within 6 months")
    page.locator("input[name=name]").fill("RMM")
    page.locator("select[name=unit]").select_option("monitored_device")
    page.locator("input[name=rate]").fill("-2")
    page.get_by_role("button", name="Add the tool").click()
    expect(page.locator(".field.invalid", has_text="Rate")).to_be_visible()
    shoot(page, shots, "tool-costs-invalid")
    assert not ToolCost.objects.exists()

    page.locator("input[name=rate]").fill("2.50")
    page.get_by_role("button", name="Add the tool").click()
    expect(page.locator("#tool-rows")).to_contain_text("RMM")
    expect(page.locator("#tool-rows")).to_contain_text("2.50 EUR")
    page.locator("input[name=name]").fill("rmm")
    page.locator("select[name=unit]").select_option("user")
    page.locator("input[name=rate]").fill("1")
    page.get_by_role("button", name="Add the tool").click()
    expect(page.locator(".field.invalid", has_text="Name")).to_contain_text("already")
    assert ToolCost.objects.count() == 1

    page.get_by_role("link", name="Edit").click()
    page.locator("input[name=rate]").fill("3.00")
    page.get_by_role("button", name="Save the tool").click()
    expect(page.locator("#tool-rows")).to_contain_text("3.00 EUR")
    shoot(page, shots, "tool-costs")
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#tool-rows")).to_contain_text("No shared tools")


@pytest.mark.browser
def test_a_share_drills_down_to_the_tools_taken_off_its_line(
    cast, books, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    services.update_settings(cast.admin, cast.security, {}, source=Source.CLI)
    tool_costs.add_tool(
        cast.admin,
        cast.security,
        name="Backup",
        unit="user",
        rate=Decimal("4.00"),
        source=Source.CLI,
    )
    approved_acme(cast)
    leg = Leg.objects.filter(
        account__partner=cast.partner_record, rule="origination", transaction__kind="split"
    ).first()
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", f"/billing/statements/shares/{leg.pk}/")
    expect(page.locator("#share-tools")).to_contain_text("Backup")
    expect(page.locator("#share-tools")).to_contain_text("2 users")
    expect(page.locator("#share-tools")).to_contain_text("8.00")
    shoot(page, shots, "share-tools")


@pytest.mark.browser
def test_the_admin_claws_back_a_client_now(cast, referred, live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    approved_acme(cast)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/settings/{cast.security.pk}/tools/")
    page.locator("#clawback-form select[name=client]").select_option(label="Acme Bakery")
    page.get_by_role("button", name="Claw back now").click()
    expect(page.locator("#clawback-form .field.invalid")).to_contain_text("has not left")
    shoot(page, shots, "claw-back-refused")
    assert not ReferralClawback.objects.exists()

    leave(cast)
    page.locator("#clawback-form select[name=client]").select_option(label="Acme Bakery")
    page.get_by_role("button", name="Claw back now").click()
    expect(page.get_by_text("Clawed back: Acme Bakery left after 0 months.")).to_be_visible()
    expect(page.locator("#clawback-rows")).to_contain_text("Acme Bakery")
    shoot(page, shots, "claw-back-done")
    assert ReferralClawback.objects.count() == 1
