"""Times on the pages are shown in the viewer's own time zone (``User.time_zone``)."""

from __future__ import annotations

import datetime as dt

import pytest

from thirdway.audit.models import Source
from thirdway.network import services as network

# Working hours of Paula (Lyon, 09:00-17:00 on weekdays) as each viewer sees Monday's, in the
# week of 15 January 2025 (Paris is UTC+1, Toronto UTC-5).
PAULA_MONDAY = {
    "admin": "Mon 08:00–Mon 16:00",  # UTC
    "associate": "Mon 09:00–Mon 17:00",  # Europe/Paris, like Paula
    "other_partner": "Mon 03:00–Mon 11:00",  # America/Toronto
}


def _hours_cells(html: str) -> list[str]:
    table = html.split("<h2>Working hours</h2>")[1].split("</table>")[0]
    return [row.split("<td>")[3].split("</td>")[0] for row in table.split("<tr>")[2:]]


@pytest.mark.parametrize(("viewer", "monday"), sorted(PAULA_MONDAY.items()))
def test_working_hours_are_shown_in_the_partner_s_zone_and_in_the_viewer_s(
    cast, web_as, frozen_now, page, viewer, monday
):
    user = getattr(cast, viewer)
    html = page(web_as(user).get(f"/partners/{cast.partner_record.pk}/"))
    assert "Their time (Europe/Paris)" in html
    assert f"Your time ({user.time_zone})" in html
    assert html.count("<td>09:00–17:00</td>") == 5
    cells = _hours_cells(html)
    assert cells[0] == monday
    assert len(cells) == 5
    assert cells[4] == monday.replace("Mon", "Fri")


def test_hours_that_cross_midnight_for_the_viewer_show_both_days(cast, web_as, frozen_now, page):
    cast.admin.time_zone = "Asia/Tokyo"
    cast.admin.save(update_fields=["time_zone"])
    html = page(web_as(cast.admin).get(f"/partners/{cast.partner_record.pk}/"))
    assert "Your time (Asia/Tokyo)" in html
    assert _hours_cells(html)[0] == "Mon 17:00–Tue 01:00"
    # Dean's desk is open around the clock in Lyon: Monday there begins on Sunday in UTC.
    cast.admin.time_zone = "UTC"
    cast.admin.save(update_fields=["time_zone"])
    html = page(web_as(cast.admin).get(f"/partners/{cast.desk_record.pk}/"))
    assert _hours_cells(html)[0] == "Sun 23:00–Mon 23:00"


def test_the_offset_follows_each_zone_s_own_daylight_saving(cast, web_as, frozen_now, page):
    # In mid-March 2025 Toronto is on summer time (UTC-4) and Paris not yet (UTC+1).
    frozen_now(dt.datetime(2025, 3, 12, 12, 0, tzinfo=dt.UTC))
    html = page(web_as(cast.other_partner).get(f"/partners/{cast.partner_record.pk}/"))
    assert _hours_cells(html)[0] == "Mon 04:00–Mon 12:00"
    # And in April both are on summer time again, six hours apart.
    frozen_now(dt.datetime(2025, 4, 9, 12, 0, tzinfo=dt.UTC))
    html = page(web_as(cast.other_partner).get(f"/partners/{cast.partner_record.pk}/"))
    assert _hours_cells(html)[0] == "Mon 03:00–Mon 11:00"


ABSENCE_SEEN = {
    "admin": "2025-01-20 14:00 → 2025-01-22 16:30",
    "partner": "2025-01-20 15:00 → 2025-01-22 17:30",
    "other_partner": "2025-01-20 09:00 → 2025-01-22 11:30",
}


@pytest.mark.parametrize(("viewer", "shown"), sorted(ABSENCE_SEEN.items()))
def test_absences_are_shown_in_the_viewer_s_zone(cast, web_as, frozen_now, page, viewer, shown):
    network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="training",
        starts_at=dt.datetime(2025, 1, 20, 14, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 1, 22, 16, 30, tzinfo=dt.UTC),
        source=Source.CLI,
    )
    html = page(web_as(getattr(cast, viewer)).get(f"/partners/{cast.partner_record.pk}/"))
    assert f"Training: {shown}" in html


def test_absence_times_typed_in_the_form_are_read_in_the_viewer_s_zone(cast, web_as):
    browser = web_as(cast.other_partner)
    browser.post(
        f"/partners/{cast.other_partner_record.pk}/absences/",
        {"kind": "sick", "starts_at": "2025-02-03T09:00", "ends_at": "2025-02-03T17:00"},
    )
    absence = cast.other_partner_record.absences.get(kind="sick")
    assert absence.starts_at == dt.datetime(2025, 2, 3, 14, 0, tzinfo=dt.UTC)
    assert absence.ends_at == dt.datetime(2025, 2, 3, 22, 0, tzinfo=dt.UTC)
    html = browser.get(f"/partners/{cast.other_partner_record.pk}/").content.decode()
    assert "Times are in your zone (America/Toronto)." in html


def test_who_is_away_now_is_shown_with_the_end_in_the_viewer_s_zone(cast, web_as, frozen_now):
    network.add_absence(
        cast.admin,
        cast.associate_record,
        kind="sick",
        starts_at=dt.datetime(2025, 1, 14, 8, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 1, 16, 23, 30, tzinfo=dt.UTC),
        source=Source.CLI,
    )
    assert "until 2025-01-16 23:30" in web_as(cast.admin).get("/").content.decode()
    assert "until 2025-01-17 00:30" in web_as(cast.partner).get("/").content.decode()
    assert "until 2025-01-16 18:30" in web_as(cast.other_partner).get("/").content.decode()


def test_history_times_are_shown_in_the_viewer_s_zone(cast, web_as, frozen_now):
    network.update_partner(cast.admin, cast.partner_record, {"phone": "1"}, source=Source.CLI)
    url = f"/partners/{cast.partner_record.pk}/"
    assert "2025-01-15 10:00</time>" in web_as(cast.admin).get(url).content.decode()
    assert "2025-01-15 11:00</time>" in web_as(cast.partner).get(url).content.decode()
    assert "2025-01-15 05:00</time>" in web_as(cast.other_partner).get(url).content.decode()


def test_a_change_of_the_viewer_s_zone_shows_at_the_next_page(cast, web_as, frozen_now, page):
    browser = web_as(cast.associate)
    url = f"/partners/{cast.partner_record.pk}/"
    assert _hours_cells(page(browser.get(url)))[0] == "Mon 09:00–Mon 17:00"
    cast.associate.time_zone = "America/Vancouver"
    cast.associate.save(update_fields=["time_zone"])
    html = page(browser.get(url))
    assert "Your time (America/Vancouver)" in html
    assert _hours_cells(html)[0] == "Mon 00:00–Mon 08:00"
