"""A week in a real browser: the partner books time (a bad value shown beside its field) and
submits the week; the practice admin approves it from the queue; the week is locked."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.billing import services
from thirdway.billing.models import TimeEntry, Timesheet

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


@pytest.mark.browser
def test_a_partner_submits_the_week_and_the_admin_approves_it(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    url = live_server.url
    book_time(cast.partner, books.partner_rate, 45, note="Firewall review")
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, url, "paula", "/billing/week/?day=2026-11-10")
    expect(page.locator("h1")).to_have_text("My timesheet")
    expect(page.locator("#week-state")).to_have_text("Open")

    form = page.locator("#add-entry form")
    form.locator("select[name=contract_line]").select_option(
        label="Acme Bakery · Acme projects · Partner time"
    )
    form.locator("input[name=worked_on]").fill("2026-11-12")
    form.locator("input[name=worked_minutes]").fill("5000")
    form.get_by_role("button", name="Add").click()
    worked = page.locator("#add-entry .field.invalid", has_text="Worked minutes")
    expect(worked).to_contain_text("1440")
    page.screenshot(path=f"{shots}/week-invalid-desktop.png", full_page=True)
    assert TimeEntry.objects.count() == 1

    form = page.locator("#add-entry form")
    form.locator("input[name=worked_minutes]").fill("90")
    form.locator("input[name=note]").fill("VPN set-up")
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#week-entries")).to_contain_text("VPN set-up")
    expect(page.locator(".week-state")).to_contain_text("135 min worked")
    page.screenshot(path=f"{shots}/week-open-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/week-open-phone.png", full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Submit the week for approval").click()
    expect(page.locator("#week-state")).to_have_text("Submitted")
    expect(page.locator("#add-entry")).to_have_count(0)
    sheet = Timesheet.objects.get(partner=cast.partner_record)
    assert sheet.state == "submitted"

    admin = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(admin, url, "admin", "/billing/weeks/")
    row = admin.locator("#week-queue tr", has_text="Paula Partner")
    expect(row).to_contain_text("135 min")
    admin.screenshot(path=f"{shots}/queue-desktop.png", full_page=True)
    admin.set_viewport_size(PHONE)
    admin.screenshot(path=f"{shots}/queue-phone.png", full_page=True)
    assert fits(admin)
    admin.set_viewport_size(DESKTOP)
    row.get_by_role("button", name="Approve").click()
    expect(admin.locator("p.flash")).to_contain_text("approved")
    expect(admin.locator("#queue-empty")).to_be_visible()
    sheet.refresh_from_db()
    assert sheet.state == "approved"

    page.reload()
    expect(page.locator("#week-state")).to_have_text("Approved (locked)")
    expect(page.locator("#week-submit")).to_have_count(0)
    page.screenshot(path=f"{shots}/week-approved-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/week-approved-phone.png", full_page=True)
    assert fits(page)


@pytest.mark.browser
def test_the_block_burn_down_and_billed_vs_counted_fit_both_sizes(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    block = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="block_hours",
        name="Ten hours",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=600,
        source=Source.CLI,
    )
    line = services.add_contract_line(
        cast.admin, block, description="Support", unit="hour", price=Decimal(90), source=Source.CLI
    )
    book_time(cast.partner, line, 8 * 60 + 30)
    url = live_server.url
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, url, "admin", f"/clients/{cast.acme.pk}/")
    expect(page.locator(".burn-warning")).to_contain_text("85 % of the block is used")
    page.screenshot(path=f"{shots}/client-burn-down-desktop.png", full_page=True)
    page.get_by_role("link", name="Top up this block").click()
    page.locator("input[name=hours]").fill("0")
    page.locator("input[name=price]").fill("100")
    page.get_by_role("button", name="Add the hours").click()
    expect(page.locator(".field.invalid")).to_be_visible()
    page.locator("input[name=hours]").fill("5")
    page.get_by_role("button", name="Add the hours").click()
    expect(page.locator(".burn-down")).to_contain_text("Bought 15.00 h")
    page.goto(f"{url}/billing/billed-vs-counted/")
    expect(page.locator("#drift-rows")).to_contain_text("Device care")
    page.screenshot(path=f"{shots}/drift-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/drift-phone.png", full_page=True)
    assert fits(page)

    portal = browser.new_context(viewport=PHONE).new_page()
    sign_in(portal, url, cast.client_admin.username, "/portal/")
    expect(portal.locator(".burn-down")).to_contain_text("Used 8.50 h")
    portal.screenshot(path=f"{shots}/portal-burn-down-phone.png", full_page=True)
    assert fits(portal)
    portal.set_viewport_size(DESKTOP)
    portal.screenshot(path=f"{shots}/portal-burn-down-desktop.png", full_page=True)


def shoot(page, shots: str, name: str) -> None:
    page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    assert fits(page), name
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_admin_corrects_a_partners_entry_from_their_week(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    entry = book_time(cast.partner, books.partner_rate, 45, note="Firewall review")
    sheet = Timesheet.objects.get(partner=cast.partner_record)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/weeks/{sheet.pk}/")
    expect(page.locator("h1")).to_have_text("Timesheet of Paula Partner")
    page.locator("#week-entries").get_by_role("link", name="Correct").click()
    page.locator("input[name=worked_on]").fill("2026-11-11")
    page.locator("input[name=billable_minutes]").fill("2000")
    page.locator("select[name=kind]").select_option("onsite")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="Billable minutes")).to_contain_text("1440")
    shoot(page, shots, "correct-invalid")
    entry.refresh_from_db()
    assert (entry.kind, entry.worked_on) == ("work", dt.date(2026, 11, 10))

    page.locator("input[name=billable_minutes]").fill("30")
    page.locator("input[name=start_time]").fill("09:30")
    page.locator("select[name=billing_status]").select_option("no_charge")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("p.flash")).to_contain_text("Time corrected.")
    expect(page.locator("h1")).to_have_text("Timesheet of Paula Partner")
    expect(page.locator("#week-entries")).to_contain_text("On site")
    expect(page.locator("#week-entries")).to_contain_text("No charge")
    shoot(page, shots, "correct-partner-week")
    entry.refresh_from_db()
    assert (entry.worked_on, entry.start_time, entry.billable_minutes) == (
        dt.date(2026, 11, 11),
        dt.time(9, 30),
        30,
    )


@pytest.mark.browser
def test_the_admin_finds_a_partners_open_week_and_submits_it(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    book_time(cast.partner, books.partner_rate, 45)
    book_time(cast.associate, books.associate_rate, 30, day=dt.date(2026, 11, 17))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/weeks/")
    page.locator("#all-weeks").click()
    expect(page.locator("h1")).to_have_text("Timesheets")
    expect(page.locator("#week-rows tbody tr")).to_have_count(2)
    page.locator("input[name=week]").fill("1800-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#week-filters .field.invalid")).to_contain_text("1900 to 2099")
    shoot(page, shots, "timesheets-invalid")

    page.locator("input[name=week]").fill("2026-11-12")
    page.locator("select[name=state]").select_option("open")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#week-rows tbody tr")).to_have_count(1)
    expect(page.locator("#week-rows")).to_contain_text("45 min")
    shoot(page, shots, "timesheets")
    page.locator("#week-rows").get_by_role("link", name="Paula Partner").click()
    expect(page.locator("#week-state")).to_have_text("Open")
    page.get_by_role("button", name="Submit the week for approval").click()
    expect(page.locator("#week-state")).to_have_text("Submitted")
    expect(page.locator("h1")).to_have_text("Timesheet of Paula Partner")
    shoot(page, shots, "partner-week-submitted")
    assert Timesheet.objects.get(partner=cast.partner_record).state == "submitted"
