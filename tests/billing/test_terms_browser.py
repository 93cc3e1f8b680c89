"""Contract terms, billing details and expenses in a real browser: each form refused with the
error beside its field (nothing written), then accepted; the pages at desktop and phone size."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.utils import timezone

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.billing import services
from thirdway.billing.models import BillableItem, ClientBillingDetails, ContractLine

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


def shoot(page, shots: str, name: str) -> None:
    page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    assert fits(page), name
    page.set_viewport_size(DESKTOP)


def contract(cast):
    ends_on = timezone.localdate() + dt.timedelta(days=45)
    made = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="managed",
        name="Acme managed",
        starts_on=dt.date(2026, 1, 1),
        ends_on=ends_on,
        renewal_months=12,
        notice_days=30,
        source=Source.CLI,
    )
    services.add_contract_line(
        cast.admin,
        made,
        description="Monitoring",
        unit="flat",
        price=Decimal("120.00"),
        ends_on=ends_on,
        source=Source.CLI,
    )
    return made


@pytest.mark.browser
def test_the_admin_changes_a_line_from_a_day_and_sees_the_renewal(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    made = contract(cast)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/contracts/{made.pk}/")
    expect(page.locator("#contract-term")).to_contain_text(f"Renews on {made.renews_on}")
    expect(page.locator("#contract-term")).to_contain_text(f"notice by {made.notice_by}")

    page.get_by_role("link", name="Change from a day").click()
    page.locator("input[name=effective_on]").fill("2025-06-01")
    page.locator("input[name=price]").fill("150")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="Effective on")).to_contain_text(
        "outside the line"
    )
    shoot(page, shots, "line-change-invalid")
    assert ContractLine.objects.count() == 1

    page.locator("input[name=effective_on]").fill("2026-11-11")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#lines")).to_contain_text("150.00")
    expect(page.locator("#lines")).to_contain_text("2026-11-10")
    shoot(page, shots, "contract-terms")
    assert ContractLine.objects.count() == 2


@pytest.mark.browser
def test_the_admin_sets_a_clients_vat_id(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/clients/{cast.acme.pk}/details/")
    page.locator("input[name=vat_id]").fill("12 34")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid")).to_contain_text("country code")
    shoot(page, shots, "billing-details-invalid")
    assert not ClientBillingDetails.objects.exists()
    page.locator("input[name=vat_id]").fill("fr 40303265045")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("input[name=vat_id]")).to_have_value("FR40303265045")
    shoot(page, shots, "billing-details")


@pytest.mark.browser
def test_the_admin_records_hardware_to_bill(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/items/new/")
    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("select[name=client]").select_option(label="Globex Dental")
    page.locator("select[name=kind]").select_option("hardware")
    page.locator("input[name=description]").fill("Wi-Fi router")
    page.locator("input[name=quantity]").fill("2")
    page.locator("input[name=unit_cost]").fill("61")
    page.locator("input[name=unit_price]").fill("-89.90")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="Unit price")).to_be_visible()
    shoot(page, shots, "item-invalid")
    assert not BillableItem.objects.exists()
    page.locator("input[name=unit_price]").fill("89.90")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-rows")).to_contain_text("Wi-Fi router")
    expect(page.locator("#item-rows")).to_contain_text("179.80")
    shoot(page, shots, "items")
    assert BillableItem.objects.get().unit_price == Decimal("89.90")


@pytest.mark.browser
def test_the_admin_changes_then_deletes_an_item_not_billed_yet(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from thirdway.billing import items

    items.record_item(
        cast.admin,
        practice=cast.security,
        client=cast.globex,
        kind="hardware",
        description="Wi-Fi router",
        quantity=Decimal(2),
        unit_price=Decimal("89.90"),
        incurred_on=dt.date(2026, 11, 12),
        source=Source.CLI,
    )
    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/items/")
    page.get_by_role("link", name="Change or delete Wi-Fi router").click()
    page.locator("input[name=unit_price]").fill("-95")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="Unit price")).to_be_visible()
    shoot(page, shots, "item-change-invalid")
    assert BillableItem.objects.get().unit_price == Decimal("89.90")
    page.locator("input[name=unit_price]").fill("95")
    page.locator("input[name=quantity]").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-rows")).to_contain_text("95.00")
    shoot(page, shots, "item-changed")
    assert BillableItem.objects.get().unit_price == Decimal("95.00")
    page.get_by_role("link", name="Change or delete Wi-Fi router").click()
    shoot(page, shots, "item-change")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#item-rows")).to_contain_text("No expenses or hardware to show.")
    assert not BillableItem.objects.exists()
