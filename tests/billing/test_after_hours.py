"""Time and materials outside the client's business hours: billed on a line of its own at the
rate times the multiplier.  Every figure is worked out by hand in the test's docstring.

Acme's calendar: Europe/Paris, Monday to Friday 08:00-18:00, French public holidays (11
November 2026, a Wednesday, is Armistice Day).  Paula works in Europe/Paris, Oscar in
America/Toronto.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.billing import blocks, invoicing, issuing, services
from thirdway.billing.after_hours import outside_minutes
from thirdway.billing.models import InvoiceLine, TimeEntry
from thirdway.billing.proposals import proposals
from thirdway.billing.ticket_time import start_of
from thirdway.sla import calendars
from thirdway.sla import services as sla

from .conftest import contract, line
from .weeks import approve_weeks

D = Decimal
NOVEMBER = dt.date(2026, 11, 1)
WEEKDAYS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def office(cast):
    """Acme's calendar, and a practice multiplier of 1.50."""
    calendar = sla.create_calendar(
        cast.admin,
        name="Lyon office",
        time_zone="Europe/Paris",
        weekly_hours=WEEKDAYS,
        holiday_country="FR",
        source=Source.CLI,
    )
    sla.set_client_service_level(
        cast.admin, cast.acme, policy=None, calendar=calendar, source=Source.CLI
    )
    services.update_settings(
        cast.admin, cast.security, {"after_hours_multiplier": D("1.50")}, source=Source.CLI
    )
    return calendar


@pytest.fixture
def rate(cast):
    """Acme's time and materials: partner time at 120.00 an hour."""
    hours = contract(cast, cast.acme, "time_materials", "Acme projects")
    return line(cast, hours, "Partner time", "hour", "120.00", role="partner")


def book(cast, contract_line, day, start, minutes, *, partner=None, **extra) -> TimeEntry:
    return services.record_time(
        cast.admin,
        partner=partner or cast.partner_record,
        contract_line=contract_line,
        worked_on=day,
        start_time=start,
        worked_minutes=minutes,
        source=Source.CLI,
        **extra,
    )


def run(cast, month=NOVEMBER):
    approve_weeks(cast)
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


def time_lines() -> list[tuple]:
    found = InvoiceLine.objects.filter(contract_line__isnull=False).order_by("pk")
    return [(line.description, line.quantity, line.unit_price, line.net) for line in found]


def test_a_month_of_time_bills_the_minutes_after_hours_at_the_rate_times_the_multiplier(
    cast, office, rate
):
    """In hours: 90 (Tuesday 10:00) + 60 (Thursday 17:00-18:00 of 17:00-18:40) + 17 (Friday
    17:30-19:00, 90 worked, 50 billable: 30 of 90 minutes inside, 50 x 30 / 90 = 16.67 -> 17)
    + 30 (no start time) = 197 min = 3.28 h x 120.00 = 393.60.
    After hours: 60 (Wednesday 11 November, a public holiday) + 45 (Saturday) + 40 (Thursday
    18:00-18:40) + 33 (Friday, 50 - 17) = 178 min = 2.97 h x 180.00 (120.00 x 1.5) = 534.60."""
    book(cast, rate, dt.date(2026, 11, 10), dt.time(10, 0), 90)
    holiday = book(cast, rate, dt.date(2026, 11, 11), dt.time(10, 0), 60)
    saturday = book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 45)
    straddling = book(cast, rate, dt.date(2026, 11, 12), dt.time(17, 0), 100)
    cut = book(cast, rate, dt.date(2026, 11, 13), dt.time(17, 30), 90, billable_minutes=50)
    book(cast, rate, dt.date(2026, 11, 16), None, 30)

    made = run(cast)

    assert time_lines() == [
        ("Partner time", D("3.28"), D("120.00"), D("393.60")),
        ("Partner time after hours ×1.5", D("2.97"), D("180.00"), D("534.60")),
    ]
    after = InvoiceLine.objects.get(description__endswith="×1.5")
    assert "178 min outside Lyon office business hours" in after.quantity_source
    assert set(after.after_hours_entries.values_list("pk", flat=True)) == {
        holiday.pk,
        saturday.pk,
        straddling.pk,
        cut.pk,
    }
    assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 0
    assert made.invoices_made == 1
    assert made.lines_made == 2


def test_a_rerun_bills_nothing_new_and_the_preview_finds_nothing_left(cast, office, rate):
    """Saturday 09:00, 60 min: 1.00 h x 180.00 = 180.00, billed once."""
    book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    run(cast)
    again = run(cast)
    assert again.lines_made == 0
    assert proposals(cast.security, NOVEMBER) == {}
    assert time_lines() == [("Partner time after hours ×1.5", D("1.00"), D("180.00"), D("180.00"))]


def test_a_line_overrides_the_practice_multiplier_rounding_half_up(cast, office):
    """99.99 x 1.25 = 124.9875 -> 124.99 an hour; Sunday 22 November, 60 min: 124.99."""
    hours = contract(cast, cast.acme, "time_materials", "Acme projects")
    special = line(cast, hours, "Night work", "hour", "99.99", after_hours_multiplier=D("1.25"))
    book(cast, special, dt.date(2026, 11, 22), dt.time(20, 0), 60)
    run(cast)
    assert time_lines()[-1] == ("Night work after hours ×1.25", D("1.00"), D("124.99"), D("124.99"))


def test_time_in_business_hours_and_a_multiplier_of_one_bill_one_plain_line(cast, office, rate):
    """With the practice back at 1.00, Saturday time is billed at the rate: 1.00 h x 120.00."""
    services.update_settings(
        cast.admin, cast.security, {"after_hours_multiplier": D("1.00")}, source=Source.CLI
    )
    book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    run(cast)
    assert time_lines() == [("Partner time", D("1.00"), D("120.00"), D("120.00"))]


def test_a_client_without_a_calendar_is_billed_at_the_rate_whatever_the_hour(cast, rate):
    services.update_settings(
        cast.admin, cast.security, {"after_hours_multiplier": D("2.00")}, source=Source.CLI
    )
    book(cast, rate, dt.date(2026, 11, 14), dt.time(23, 0), 60)
    run(cast)
    assert time_lines() == [("Partner time", D("1.00"), D("120.00"), D("120.00"))]


def test_the_clocks_changing_on_one_side_only_moves_the_business_hours(cast, office, rate):
    """Monday 26 October 2026: Paris is back on CET (UTC+1) since Sunday, Toronto still on
    EDT (UTC-4).  Oscar starts at 02:30 in Toronto = 06:30 UTC = 07:30 in Paris, for 60 min:
    07:30-08:00 is before Acme opens, 30 min after hours (with the usual 6 hours between the
    cities it would have been 08:30, all in hours).  Paula works the night the clocks go back
    (Sunday 25 October, from 01:30 CEST for 120 real minutes, to 02:30 CET): 120 min, a
    Sunday.  After hours 150 min = 2.50 h x 180.00 = 450.00; in hours 30 min = 0.50 h x 120.00
    = 60.00."""
    oscar = book(
        cast, rate, dt.date(2026, 10, 26), dt.time(2, 30), 60, partner=cast.other_partner_record
    )
    night = book(cast, rate, dt.date(2026, 10, 25), dt.time(1, 30), 120)
    calendar = calendars.to_engine(office, today=dt.date(2026, 10, 1))
    assert outside_minutes(oscar, "America/Toronto", calendar) == 30
    assert outside_minutes(oscar, "Europe/Paris", calendar) == 60  # read as Paris time: night
    assert outside_minutes(night, "Europe/Paris", calendar) == 120
    run(cast, dt.date(2026, 10, 1))
    assert time_lines() == [
        ("Partner time", D("0.50"), D("120.00"), D("60.00")),
        ("Partner time after hours ×1.5", D("2.50"), D("180.00"), D("450.00")),
    ]


def test_a_reversing_entry_takes_back_its_minutes_after_hours(cast, office, rate):
    """A Saturday hour billed, then corrected to 30 minutes: the reversal (-60) and the new
    entry (30, the same start) leave -30 after hours, nothing to bill; the time left for a
    credit note, no line is negative."""
    entry = book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    run(cast)
    services.correct_time(cast.admin, entry, {"worked_minutes": 30}, source=Source.CLI)
    replacement = TimeEntry.objects.get(worked_minutes=30)
    assert replacement.start_time == dt.time(9, 0)
    run(cast)
    assert all(line[3] >= 0 for line in time_lines())


def test_taking_either_line_off_a_draft_takes_its_pair_and_the_next_run_bills_both_once(
    cast, office, rate
):
    """Tuesday 10:00 and Saturday 09:00, 60 min each: 1.00 h x 120.00 and 1.00 h x 180.00.
    Taking the plain line off the draft takes the after-hours line with it (they bill the
    same entries); the next run bills both again, once."""
    book(cast, rate, dt.date(2026, 11, 10), dt.time(10, 0), 60)
    book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    run(cast)
    billed = [
        ("Partner time", D("1.00"), D("120.00"), D("120.00")),
        ("Partner time after hours ×1.5", D("1.00"), D("180.00"), D("180.00")),
    ]
    assert time_lines() == billed
    plain = InvoiceLine.objects.get(description="Partner time")
    issuing.remove_invoice_line(cast.admin, plain, source=Source.CLI)
    assert time_lines() == []
    assert TimeEntry.objects.filter(after_hours_line__isnull=False).count() == 0
    run(cast)
    run(cast)
    assert time_lines() == billed


@pytest.mark.parametrize("value", [D("0.99"), D("5.01")])
def test_a_multiplier_out_of_bounds_is_refused_naming_it(cast, rate, value):
    with pytest.raises(ValidationError) as refused:
        services.update_settings(
            cast.admin, cast.security, {"after_hours_multiplier": value}, source=Source.CLI
        )
    assert "after_hours_multiplier" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.update_contract_line(
            cast.admin, rate, {"after_hours_multiplier": value}, source=Source.CLI
        )
    assert "after_hours_multiplier" in refused.value.message_dict


def test_only_time_and_materials_and_block_hours_have_an_after_hours_multiplier(cast):
    block = contract(cast, cast.acme, "block_hours", "Block", block_minutes=600)
    kept = line(cast, block, "Support", "hour", "90.00", after_hours_multiplier=D("1.50"))
    assert kept.after_hours_multiplier == D("1.50")
    project = contract(cast, cast.acme, "project", "Site", fixed_price=D("100.00"))
    with pytest.raises(ValidationError) as refused:
        line(cast, project, "Time", "hour", "90.00", after_hours_multiplier=D("1.50"))
    assert "after_hours_multiplier" in refused.value.message_dict


@pytest.fixture
def block(cast):
    """Acme's block of 10 hours (600 min), support beyond it at 90.00 an hour."""
    made = contract(cast, cast.acme, "block_hours", "Ten hours", block_minutes=600)
    return made, line(cast, made, "Support", "hour", "90.00")


def test_a_block_burns_time_after_hours_at_the_multiplier(cast, office, block, web_as, api_as):
    """Practice multiplier 1.5.  Burnt: Tuesday 10:00, 90 min in hours: 90.  Saturday 09:00,
    60 min: 60 + 60 x 0.5 = 90.  Wednesday 11 November (a public holiday) 10:00, 45 min:
    45 + 22.5 -> 23 (half up) = 68.  Thursday 17:30-19:00, 90 min, closing at 18:00: 60 min
    after hours, 90 + 30 = 120.  No start time, 30 min: 30.  Worked 315 min, burnt 90 + 90 +
    68 + 120 + 30 = 398 min = 6.63 h (83 min = 1.38 h of it after hours); left 202 min =
    3.37 h; 398 x 100 // 600 = 66 %."""
    made, support = block
    book(cast, support, dt.date(2026, 11, 10), dt.time(10, 0), 90)
    book(cast, support, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    book(cast, support, dt.date(2026, 11, 11), dt.time(10, 0), 45)
    book(cast, support, dt.date(2026, 11, 12), dt.time(17, 30), 90)
    book(cast, support, dt.date(2026, 11, 16), None, 30)

    found = blocks.burn(made)
    assert (found.used, found.after_hours_extra, found.left) == (398, 83, 202)
    assert (found.used_hours, found.left_hours, found.percent_used) == (
        D("6.63"),
        D("3.37"),
        66,
    )
    assert found.multipliers == (D("1.50"),)
    said = "Time after hours burns the block at ×1.5 (1 h at night uses 1.5 h); 1.38 h"
    for page in (
        web_as(cast.admin).get(f"/clients/{cast.acme.pk}/"),
        web_as(cast.client_admin).get("/portal/"),
    ):
        text = page.content.decode()
        assert "Used <strong>6.63 h</strong>" in text and said in text
    read = send(api_as(cast.admin), "GET", f"{API}/contracts/{made.pk}/block").json()
    assert (read["used_hours"], read["after_hours_extra_hours"]) == ("6.63", "1.38")
    assert read["after_hours_multipliers"] == ["1.50"]


def test_the_run_covers_the_burnt_minutes_and_bills_the_rest_beyond_the_block(cast, office, block):
    """November's first run: 398 min burnt (as above, less the entry without a start time:
    368 min) all from the block.  Then Saturday 21 November 09:00, 300 min: burns 450; the
    block has 600 - 368 = 232 min left, so 218 min = 3.63 h are beyond it at 90.00 = 326.70."""
    made, support = block
    book(cast, support, dt.date(2026, 11, 10), dt.time(10, 0), 90)
    book(cast, support, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    book(cast, support, dt.date(2026, 11, 11), dt.time(10, 0), 45)
    book(cast, support, dt.date(2026, 11, 12), dt.time(17, 30), 90)
    run(cast)
    first = InvoiceLine.objects.get(description="Support beyond the block")
    assert first.quantity == D("0.00")
    assert "4.75 h worked (6.13 h with time after hours), 6.13 h from the block" in (
        first.quantity_source
    )
    assert blocks.burn(made).used == 368
    book(cast, support, dt.date(2026, 11, 21), dt.time(9, 0), 300)
    run(cast)
    beyond = InvoiceLine.objects.filter(description="Support beyond the block").latest("pk")
    assert (beyond.quantity, beyond.unit_price, beyond.net) == (D("3.63"), D("90.00"), D("326.70"))
    assert blocks.burn(made).used == 818


def test_a_block_lines_own_multiplier_comes_before_the_practices(cast, office, block):
    """The line's 2.00 over the practice's 1.5: Saturday 09:00, 60 min burns 60 + 60 x 1 =
    120.  Corrected to 30 min once its week is approved: the reversal takes the 120 back and
    the new entry (same start) burns 30 + 30 = 60."""
    made, support = block
    services.update_contract_line(
        cast.admin, support, {"after_hours_multiplier": D("2.00")}, source=Source.CLI
    )
    saturday = book(cast, support, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    found = blocks.burn(made)
    assert (found.used, found.multipliers) == (120, (D("2.00"),))
    assert found.after_hours_text.startswith("Time after hours burns the block at ×2 (1 h at")
    approve_weeks(cast)
    services.correct_time(cast.admin, saturday, {"worked_minutes": 30}, source=Source.CLI)
    assert TimeEntry.objects.filter(contract_line=support).count() == 3
    assert blocks.burn(made).used == 60


def test_time_from_a_ticket_reply_starts_its_minutes_before_the_reply(cast, rate):
    """A reply written at 10:00 UTC (11:00 in Paris) after 45 minutes began at 10:15 in
    Paris; one written at 00:20 in Paris after an hour began the day before, so from 00:00."""
    from thirdway.tickets import services as tickets

    written = SimpleNamespace(created_at=dt.datetime(2026, 11, 14, 10, 0, tzinfo=dt.UTC))
    assert start_of(cast.partner_record, written, 45) == dt.time(10, 15)
    late = SimpleNamespace(created_at=dt.datetime(2026, 11, 13, 23, 20, tzinfo=dt.UTC))
    assert start_of(cast.partner_record, late, 60) == dt.time(0, 0)
    ticket = tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Backup failed",
        body_text="Tonight's backup failed.",
        practice_id=cast.security.pk,
        source=Source.CLI,
    )
    article = tickets.reply(
        cast.partner, ticket, body_text="Fixed.", time_spent_minutes=30, source=Source.WEB
    )
    entry = TimeEntry.objects.get(article=article)
    assert entry.start_time == start_of(cast.partner_record, article, 30)


def test_the_api_books_a_start_time_and_sets_a_lines_multiplier(cast, rate, api_as):
    admin = api_as(cast.admin)
    made = send(
        admin,
        "POST",
        f"{API}/time-entries",
        {
            "contract_line": rate.pk,
            "partner": cast.partner_record.pk,
            "worked_on": "2026-11-14",
            "start_time": "21:30",
            "worked_minutes": 60,
        },
    )
    assert made.status_code == 201, made.content
    assert made.json()["start_time"] == "21:30:00"
    url = f"{API}/contracts/{rate.contract_id}/lines"
    line_payload = {"description": "Nights", "unit": "hour", "price": "100.00"}
    assert_refused(
        send(admin, "POST", url, {**line_payload, "after_hours_multiplier": "5.5"}),
        "after_hours_multiplier",
    )
    added = send(admin, "POST", url, {**line_payload, "after_hours_multiplier": "2"})
    assert added.status_code == 201, added.content
    assert D(added.json()["after_hours_multiplier"]) == D(2)
    settings = f"{API}/billing/settings/{cast.security.pk}"
    assert_refused(
        send(admin, "PATCH", settings, {"after_hours_multiplier": "0.5"}), "after_hours_multiplier"
    )
    changed = send(admin, "PATCH", settings, {"after_hours_multiplier": "1.75"})
    assert changed.json()["after_hours_multiplier"] == "1.75"
    assert send(api_as(cast.partner), "GET", settings).status_code == 403


@pytest.mark.parametrize("approval", ["one", "month_end"])
def test_the_delivery_share_of_the_after_hours_line_goes_to_who_worked_after_hours(
    cast, office, rate, approval
):
    """Paula works Tuesday 10:00 for 120 min (in hours), Oscar Saturday 09:00 in Toronto for
    60 min (after hours).  The after-hours line (1.00 h x 180.00) is delivered by Oscar alone:
    its delivery share (60 %, and the desk's 5 % it did not earn, resolving no ticket: 65 % of
    180.00 = 117.00) is all his; the time line holds both entries, so it is
    split by their minutes, 120 to 60."""
    from thirdway.billing import month_end
    from thirdway.billing.models import Invoice

    book(cast, rate, dt.date(2026, 11, 10), dt.time(10, 0), 120)
    oscar = cast.other_partner_record
    book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60, partner=oscar)
    run(cast)
    draft = Invoice.objects.get(client=cast.acme, state="draft")
    if approval == "one":
        issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
    else:
        month_end.approve_drafts(cast.admin, cast.security, NOVEMBER, source=Source.CLI)
    after = InvoiceLine.objects.get(description__endswith="×1.5").transactions.get()
    assert after.facts["delivery"] == {str(oscar.pk): 60}
    delivered = {str(leg.account): leg.amount for leg in after.legs.filter(rule="delivery")}
    assert delivered == {"Share owed · Oscar Other": D("-117.00")}
    in_hours = InvoiceLine.objects.get(description="Partner time").transactions.get()
    assert in_hours.facts["delivery"] == {str(cast.partner_record.pk): 120, str(oscar.pk): 60}
