"""Working hours typed as a week grid on the partner page, in the partner's own zone, and
languages as a comma-separated list: what the partner may set for themselves."""

from __future__ import annotations

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.network.models import Partner


@pytest.mark.browser
def test_a_partner_sets_their_own_hours_in_the_week_grid_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    edit = f"/partners/{cast.partner_record.pk}/edit/"
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", edit)
    expect(page.get_by_text("Per day, in Europe/Paris time")).to_be_visible()
    expect(page.get_by_label("Monday")).to_have_value("09:00-17:00")
    expect(page.get_by_label("Saturday")).to_have_value("")
    before = (AuditRecord.objects.count(), cast.partner_record.working_hours)
    page.get_by_label("Monday").fill("09:00-12:00, 11:00-13:00")
    page.get_by_role("button", name="Save").click()
    hours = page.locator(".field.invalid", has=page.locator("#id_working_hours"))
    expect(hours.locator(".error")).to_contain_text("mon has overlapping intervals.")
    expect(page.get_by_label("Monday")).to_have_value("09:00-12:00, 11:00-13:00")
    page.get_by_label("Friday").fill("nine to five")
    page.get_by_role("button", name="Save").click()
    expect(hours.locator(".error")).to_have_text(
        "Friday: 'nine to five' is not a time range. Allowed: HH:MM-HH:MM, several separated "
        "by commas, e.g. 09:00-12:00, 13:00-17:00."
    )
    page.locator("input[name=languages]").fill("fr, English")
    page.get_by_label("Friday").fill("9:00-12:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid .error").first).to_be_visible()
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert (AuditRecord.objects.count(), paula.working_hours) == before
    page.screenshot(path=str(tmp_path / "hours-error.png"), full_page=True)

    page.get_by_label("Monday").fill("09:00-12:00, 13:00-17:00")
    page.get_by_label("Saturday").fill("10:00-14:00")
    page.locator("input[name=languages]").fill("fr, en")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    paula = Partner.objects.get(pk=cast.partner_record.pk)
    assert paula.working_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]],
        "fri": [["09:00", "12:00"]],
        "sat": [["10:00", "14:00"]],
    }
    assert paula.languages == ["fr", "en"]
    page.goto(f"{live_server.url}{edit}")
    page.screenshot(path=str(tmp_path / "hours-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "hours-390.png"), full_page=True)
    assert fits(page)
