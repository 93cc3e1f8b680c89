"""On-call rotas: turns, hand-over times, absences skipped, overrides and swaps, coverage gaps,
"who is on call", and the iCal feed behind a secret address."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.network.models import OnCallFeed
from thirdway.network.oncall import describe_gaps, monday_of, plan_of, who_is_on_call

PARIS = ZoneInfo("Europe/Paris")
START = dt.date(2026, 1, 5)  # a Monday


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def rota(cast, kind="weekly", members=None, desk=False, name="Security on call"):
    return network.create_rota(
        cast.admin,
        name=name,
        practice=None if desk else cast.security,
        kind=kind,
        time_zone="Europe/Paris",
        handover_time=dt.time(9, 0),
        starts_on=START,
        members=members or [cast.partner_record, cast.other_partner_record, cast.associate_record],
        source=Source.CLI,
    )


def on_call(r, when):
    return plan_of(r, when - dt.timedelta(days=1), when + dt.timedelta(days=1)).on_call_at(when)


def test_a_weekly_rota_hands_over_on_monday_at_the_handover_time(cast):
    r = rota(cast)
    assert on_call(r, at(5, 10)) == cast.partner_record.pk
    assert on_call(r, at(12, 8, 59)) == cast.partner_record.pk
    assert on_call(r, at(12, 9)) == cast.other_partner_record.pk
    assert on_call(r, at(19, 9)) == cast.associate_record.pk
    assert on_call(r, at(26, 9)) == cast.partner_record.pk


def test_a_daily_rota_turns_every_day(cast):
    r = rota(cast, kind="daily")
    assert [on_call(r, at(day, 12)) for day in (5, 6, 7, 8)] == [
        cast.partner_record.pk,
        cast.other_partner_record.pk,
        cast.associate_record.pk,
        cast.partner_record.pk,
    ]


def test_an_absent_member_is_skipped(cast):
    r = rota(cast)
    network.add_absence(
        cast.admin,
        cast.other_partner_record,
        kind="vacation",
        starts_at=at(12, 0),
        ends_at=at(14, 0),
        source=Source.CLI,
    )
    assert on_call(r, at(13, 10)) == cast.associate_record.pk
    assert on_call(r, at(14, 10)) == cast.other_partner_record.pk


def test_an_override_wins_and_a_swap_exchanges_duties(cast):
    r = rota(cast)
    network.add_override(
        cast.admin, r, cast.desk_record, starts_at=at(6, 18), ends_at=at(7, 8), source=Source.CLI
    )
    assert on_call(r, at(6, 20)) == cast.desk_record.pk
    assert on_call(r, at(7, 8)) == cast.partner_record.pk
    network.swap_duty(
        cast.partner,  # a partner may swap their own duty
        r,
        (cast.partner_record, at(9, 9), at(10, 9)),
        (cast.other_partner_record, at(13, 9), at(14, 9)),
        source=Source.WEB,
    )
    assert on_call(r, at(9, 12)) == cast.other_partner_record.pk
    assert on_call(r, at(13, 12)) == cast.partner_record.pk


def test_only_an_admin_or_the_lead_changes_a_rota(cast):
    with pytest.raises(PermissionDenied):
        network.create_rota(
            cast.partner,
            name="Mine",
            practice=cast.security,
            kind="daily",
            time_zone="Europe/Paris",
            starts_on=START,
            members=[cast.partner_record],
            source=Source.WEB,
        )
    with pytest.raises(PermissionDenied):
        network.add_override(
            cast.partner,
            rota(cast, name="Other"),
            cast.other_partner_record,
            starts_at=at(6, 9),
            ends_at=at(6, 10),
            source=Source.WEB,
        )


def test_follow_the_sun_warns_about_the_hours_nobody_covers(cast):
    # Paris 09-17 and Toronto 09-17 on weekdays: 15:00-23:00 UTC and 08:00-16:00 UTC.
    r = rota(
        cast,
        kind="follow_the_sun",
        members=[cast.partner_record, cast.other_partner_record],
    )
    plan = plan_of(r, at(5, 0), at(12, 0))
    assert plan.on_call_at(at(5, 10)) == cast.partner_record.pk
    assert plan.on_call_at(at(5, 20)) == cast.other_partner_record.pk
    assert plan.on_call_at(at(6, 3)) is None
    gaps = describe_gaps(plan.gaps(monday_of(at(7, 12))))
    assert gaps[0] == "Mon 00:00 to Mon 08:00 UTC"
    assert "Fri 22:00 to Mon 00:00 UTC" in gaps
    # With the 24x7 desk in the rota, nothing is left uncovered.
    network.set_rota_members(
        cast.admin,
        r,
        [cast.partner_record, cast.other_partner_record, cast.desk_record],
        source=Source.CLI,
    )
    assert plan_of(r, at(5, 0), at(12, 0)).gaps(monday_of(at(7, 12))) == []


def test_who_is_on_call_falls_back_to_the_desk(cast):
    rota(cast)
    desk = rota(cast, members=[cast.desk_record], desk=True, name="Desk")
    partner, found = who_is_on_call(cast.security.pk, at(5, 10))
    assert partner == cast.partner_record
    partner, found = who_is_on_call(cast.networking.pk, at(5, 10))
    assert (partner, found) == (cast.desk_record, desk)


def test_the_ical_feed_lists_duties_behind_a_secret_address(cast):
    rota(cast, kind="daily")
    token = network.reset_on_call_feed(cast.partner, cast.partner_record, source=Source.WEB)
    assert OnCallFeed.objects.get().token_digest != token  # only the digest is kept
    response = HttpClient().get(f"/partners/on-call/feed/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    duties = [event for event in calendar.walk("VEVENT")]
    assert duties and all(str(e["summary"]) == "On call: Security on call" for e in duties)
    # A daily rota of three: one day on, from hand-over to hand-over, two days off.
    assert max(e.decoded("dtend") - e.decoded("dtstart") for e in duties) == dt.timedelta(days=1)
    assert HttpClient().get("/partners/on-call/feed/wrong.ics").status_code == 404
    # A new address retires the old one.
    network.reset_on_call_feed(cast.partner, cast.partner_record, source=Source.WEB)
    assert HttpClient().get(f"/partners/on-call/feed/{token}.ics").status_code == 404


def test_the_on_call_page_shows_who_and_the_gaps(cast):
    rota(cast, kind="follow_the_sun", members=[cast.partner_record])
    browser = HttpClient()
    browser.force_login(cast.desk)
    page = browser.get("/partners/on-call/", {"at": "2026-01-05T10:00"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Paula Partner" in html and "Not covered 24x7" in html
    outsider = HttpClient()
    outsider.force_login(cast.client_user)
    assert outsider.get("/partners/on-call/").status_code == 404
