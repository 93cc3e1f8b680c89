"""The service-level settings pages in a real chromium: each form refused with its error next
to the field and nothing written, then accepted; screens at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.sla.models import BusinessCalendar, ClientServiceLevel, EscalationStep, SlaPolicy

SHOTS = Path("/tmp/shots-settingssla")

pytestmark = pytest.mark.browser


def _shoot(page, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    assert fits(page), f"{name} sticks out sideways on a phone"
    page.set_viewport_size(DESKTOP)


def _admin_page(browser, live_server, path: str):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", path)
    expect(page).to_have_url(f"{live_server.url}{path}")
    return page


def test_an_admin_makes_a_calendar_with_hours_per_day_and_regional_holidays(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    from support.browser import settled

    page = _admin_page(browser, live_server, "/settings/sla/calendars/new/")
    form = page.locator("#calendar-form")
    form.locator("input[name=name]").fill("Lyon office")
    form.locator("input[name=time_zone]").fill("Europe/Paris")
    form.locator("input[name=hours_mon]").fill("09:00-12:00, 13:00-17:00")
    form.locator("input[name=hours_tue]").fill("09:00-12:00, 11:00-17:00")
    form.get_by_role("button", name="Create calendar").click()
    error = page.locator("#calendar-form .field.invalid:has(input[name=hours_tue]) .error")
    expect(error).to_contain_text("overlapping intervals on tue: 09:00-12:00 and 11:00-17:00")
    expect(error).to_contain_text("Allowed: weekdays mon..sun")
    expect(page.locator("input[name=hours_mon]")).to_have_value("09:00-12:00, 13:00-17:00")
    assert not BusinessCalendar.objects.exists()
    _shoot(page, "calendar-new-refused")

    page.locator("input[name=hours_tue]").fill("09:00-17:00")
    page.locator("input[name=time_zone]").fill("Europe/Lyon")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.locator(".field.invalid:has(input[name=time_zone]) .error")).to_contain_text(
        "Allowed: an IANA time zone name such as Europe/Paris."
    )
    assert not BusinessCalendar.objects.exists()

    # Picking a country offers its regions.
    page.locator("input[name=time_zone]").fill("Europe/Paris")
    page.locator("select[name=holiday_country]").select_option("FR")
    settled(page)
    expect(page.locator("select[name=holiday_region] option[value='57']")).to_have_count(1)
    page.locator("select[name=holiday_region]").select_option("57")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("Calendar Lyon office created.")).to_be_visible()
    calendar = BusinessCalendar.objects.get()
    assert calendar.weekly_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
    }
    assert (calendar.holiday_country, calendar.holiday_region) == ("FR", "57")
    assert AuditRecord.objects.filter(action="sla.calendar.create", source="web").count() == 1
    _shoot(page, "calendar-detail")


def test_a_week_without_hours_is_refused_on_the_hours(cast, office, live_server, browser):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, f"/settings/sla/calendars/{office.pk}/")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.locator(f"input[name=hours_{day}]").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#weekly-hours > .error")).to_contain_text("Allowed: weekdays mon..sun")
    office.refresh_from_db()
    assert office.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_an_admin_adds_and_removes_closed_days(cast, office, live_server, browser):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, f"/settings/sla/calendars/{office.pk}/")
    form = page.locator("#closed-day-form")
    form.locator("input[name=closed_date]").fill("2026-12-24")
    form.get_by_role("button", name="Add closed day").click()
    expect(page.locator("#closed-day-form .field.invalid .error")).to_have_text(
        "2026-12-24 is already a closed day."
    )
    page.locator("#closed-day-form input[name=closed_date]").fill("2026-12-31")
    page.locator("#closed-day-form").get_by_role("button", name="Add closed day").click()
    expect(page.get_by_text("2026-12-31 added to the closed days.")).to_be_visible()
    office.refresh_from_db()
    assert office.closed_dates == ["2026-12-24", "2026-12-31"]
    page.get_by_role("button", name="Remove 2026-12-24").click()
    expect(page.get_by_text("2026-12-24 is no longer a closed day.")).to_be_visible()
    office.refresh_from_db()
    assert office.closed_dates == ["2026-12-31"]
