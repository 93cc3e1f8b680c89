"""A moved occurrence (on a closed day of the client's calendar, ``on_holiday=move``) is opened
lead time before the date it moved to; a move landing on or after the rule's next occurrence
merges into it: one item, not two.  Read on a real French calendar (Easter Monday 2026)."""

from __future__ import annotations

import datetime as dt

from thirdway.playbooks import schedules
from thirdway.tickets.models import Ticket

from .test_schedule_places_holidays import EASTER_MONDAY, _at, _french_calendar, _schedule

DAY = dt.timedelta(days=1)
TUESDAY = EASTER_MONDAY + DAY


def _made(schedule) -> list[Ticket]:
    return list(Ticket.objects.filter(client=schedule.client, subject__startswith="Patch"))


def test_a_moved_occurrence_opens_one_lead_time_before_the_moved_date(cast):
    _french_calendar(cast)
    schedule = _schedule(cast, on_holiday="move", lead_minutes=24 * 60)
    _at(schedule, EASTER_MONDAY)
    # Lead time before the original Monday: too early for the Tuesday it moved to.
    assert schedules.sweep(EASTER_MONDAY - DAY)["made"] == 0
    schedule.refresh_from_db()
    assert schedule.next_at == EASTER_MONDAY and schedule.make_at == TUESDAY - DAY
    assert schedules.sweep(EASTER_MONDAY - dt.timedelta(minutes=1))["made"] == 0
    assert schedules.sweep(EASTER_MONDAY)["made"] == 1
    schedule.refresh_from_db()
    assert schedule.last_slot == TUESDAY
    assert "2026-04-07 08:00" in schedule.last_ticket.subject
    assert schedule.next_at == EASTER_MONDAY + dt.timedelta(weeks=1)
    assert schedules.sweep(EASTER_MONDAY + dt.timedelta(hours=1))["made"] == 0
    assert len(_made(schedule)) == 1


def test_a_move_onto_the_next_occurrence_merges_into_it(cast):
    _french_calendar(cast)
    rule = "FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=0"
    schedule = _schedule(cast, rule=rule, on_holiday="move")
    _at(schedule, EASTER_MONDAY)
    assert schedules.sweep(EASTER_MONDAY)["made"] == 0  # merged into Tuesday's
    schedule.refresh_from_db()
    assert schedule.next_at == TUESDAY
    assert schedules.sweep(TUESDAY)["made"] == 1
    assert len(_made(schedule)) == 1
    assert "2026-04-07 08:00" in _made(schedule)[0].subject


def test_a_move_past_the_next_occurrence_merges_and_that_one_moves_too(cast):
    # Closed Tuesday to Thursday: Monday's move lands on Friday, after Thursday's occurrence,
    # which itself moves to Friday: one item, on Friday.
    closed = ["2026-04-07", "2026-04-08", "2026-04-09"]
    _french_calendar(cast, closed_dates=closed)
    rule = "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8;BYMINUTE=0"
    schedule = _schedule(cast, rule=rule, on_holiday="move")
    _at(schedule, EASTER_MONDAY)
    thursday, friday = EASTER_MONDAY + 3 * DAY, EASTER_MONDAY + 4 * DAY
    for moment in (EASTER_MONDAY, TUESDAY, thursday, friday, friday + dt.timedelta(hours=1)):
        schedules.sweep(moment)
    made = _made(schedule)
    assert len(made) == 1 and "2026-04-10 08:00" in made[0].subject
    schedule.refresh_from_db()
    assert schedule.next_at == EASTER_MONDAY + dt.timedelta(weeks=1)
