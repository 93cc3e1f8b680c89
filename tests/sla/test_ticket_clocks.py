"""SLA clocks on tickets: due times, pauses on the timeline, next responses, client zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from thirdway.audit.models import Source
from thirdway.sla import services as sla
from thirdway.tickets import services
from thirdway.tickets.models import ClockPause, Ticket
from thirdway.tickets.sla_clocks import clocks

PARIS = ZoneInfo("Europe/Paris")
TORONTO = ZoneInfo("America/Toronto")


def open_ticket(cast, client=None, at=None, **extra) -> Ticket:
    ticket = services.create_ticket(
        cast.admin,
        client or cast.acme,
        subject="Till offline",
        body_text="The till does not start.",
        source="web",
        **extra,
    )
    if at is not None:
        Ticket.objects.filter(pk=ticket.pk).update(created_at=at)
        ticket.refresh_from_db()
        clocks.refresh(ticket, at)
    return ticket


def events(ticket: Ticket) -> list[str]:
    return list(ticket.articles.filter(kind="event").values_list("event", flat=True))


def test_a_new_ticket_gets_the_default_policy_and_its_due_times(cast, standard):
    ticket = open_ticket(cast)
    assert ticket.sla_policy == standard and ticket.sla_calendar == standard.calendar
    assert ticket.first_response_due_at is not None and ticket.resolution_due_at is not None
    assert ticket.next_response_due_at is None
    assert ticket.sla_due_at == min(ticket.first_response_due_at, ticket.resolution_due_at)


def test_without_any_policy_a_ticket_has_no_clocks(cast):
    ticket = open_ticket(cast)
    assert ticket.sla_policy is None and ticket.sla_due_at is None
    services.change_status(cast.partner, ticket, "waiting_client", source="web")
    assert not ClockPause.objects.exists()


def test_a_ticket_opened_just_before_close_is_due_the_next_working_day(cast, standard):
    # Friday 6 March 2026, 16:30 in Paris; P3 first response in 4 business hours:
    # 30 min on Friday, then Monday 09:00-12:00 and 13:00-13:30.
    opened = dt.datetime(2026, 3, 6, 16, 30, tzinfo=PARIS)
    ticket = open_ticket(cast, at=opened)
    assert ticket.first_response_due_at == dt.datetime(2026, 3, 9, 13, 30, tzinfo=PARIS)


def test_a_public_holiday_is_skipped(cast, standard):
    # Monday 13 July 2026 16:00, P3 first response 4 h: 1 h on Monday, 14 July is Bastille Day,
    # then Wednesday 09:00-12:00 → due at 12:00 on Wednesday 15 July.
    ticket = open_ticket(cast, at=dt.datetime(2026, 7, 13, 16, 0, tzinfo=PARIS))
    assert ticket.first_response_due_at == dt.datetime(2026, 7, 15, 12, 0, tzinfo=PARIS)


def test_the_due_time_keeps_wall_clock_hours_across_the_spring_change(cast, standard):
    # Friday 27 March 2026 16:00 Paris; clocks go forward on Sunday 29 March.
    ticket = open_ticket(cast, at=dt.datetime(2026, 3, 27, 16, 0, tzinfo=PARIS))
    assert ticket.first_response_due_at == dt.datetime(2026, 3, 30, 12, 0, tzinfo=PARIS)
    assert ticket.first_response_due_at.utcoffset() is not None


def test_a_client_in_another_zone_is_counted_on_its_own_calendar(cast, standard):
    toronto = sla.create_calendar(
        cast.admin,
        name="Toronto office",
        time_zone="America/Toronto",
        weekly_hours={day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="CA",
        holiday_region="QC",
        source=Source.CLI,
    )
    sla.set_client_service_level(
        cast.admin, cast.globex, policy=None, calendar=toronto, source=Source.CLI
    )
    # Opened by a partner in Paris at 15:00 Paris = 09:00 Toronto on Tuesday 3 November 2026
    # (Toronto is back on standard time, Paris too): 4 business hours later is 13:00 Toronto.
    opened = dt.datetime(2026, 11, 3, 15, 0, tzinfo=PARIS)
    ticket = open_ticket(cast, client=cast.globex, at=opened)
    assert ticket.sla_calendar == toronto
    assert ticket.first_response_due_at == dt.datetime(2026, 11, 3, 13, 0, tzinfo=TORONTO)


def test_waiting_on_the_client_pauses_the_clocks_and_their_reply_resumes_them(cast, standard):
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, "waiting_client", source="web")
    ticket.refresh_from_db()
    pause = ClockPause.objects.get(ticket=ticket)
    assert pause.ended_at is None and pause.reason == "waiting_client"
    assert ticket.sla_due_at is None  # a paused clock has no due time
    services.reply(cast.client_user, ticket, body_text="Here is the photo.", source="web")
    ticket.refresh_from_db()
    pause.refresh_from_db()
    assert ticket.status == "in_progress" and pause.ended_at is not None
    assert ticket.sla_due_at is not None
    assert events(ticket) == ["status", "sla_paused", "status", "sla_resumed"]


def test_a_pause_across_days_moves_the_due_time_by_the_business_time_paused(cast, standard):
    opened = dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # Monday
    ticket = open_ticket(cast, at=opened, priority=4, priority_reason="cosmetic")
    # P4 resolution: 40 business hours of 7-hour days (lunch 12:00-13:00): five days, then
    # 5 more hours on the next Monday → 15:00 on Monday 9 March.
    assert ticket.resolution_due_at == dt.datetime(2026, 3, 9, 15, 0, tzinfo=PARIS)
    # Waiting on a third party from Monday 16:00 to Wednesday 10:00: 1 + 7 + 1 business hours.
    ClockPause.objects.create(
        ticket=ticket,
        reason="waiting_third_party",
        started_at=dt.datetime(2026, 3, 2, 16, 0, tzinfo=PARIS),
        ended_at=dt.datetime(2026, 3, 4, 10, 0, tzinfo=PARIS),
    )
    clocks.refresh(ticket, dt.datetime(2026, 3, 4, 11, 0, tzinfo=PARIS))
    # 9 business hours later: 2 h left on Monday 9 March, then all 7 of Tuesday 10 March.
    assert ticket.resolution_due_at == dt.datetime(2026, 3, 10, 17, 0, tzinfo=PARIS)


def test_the_next_response_clock_runs_from_the_clients_reply_to_the_networks_answer(cast, standard):
    ticket = open_ticket(cast)
    services.reply(cast.partner, ticket, body_text="Looking into it.", source="web")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.next_response_due_at is None
    services.reply(cast.client_user, ticket, body_text="Still broken.", source="web")
    ticket.refresh_from_db()
    assert ticket.awaiting_reply_since is not None and ticket.next_response_due_at is not None
    services.reply(cast.partner, ticket, body_text="On my way.", source="web")
    ticket.refresh_from_db()
    assert ticket.awaiting_reply_since is None and ticket.next_response_due_at is None


def test_a_priority_change_moves_the_due_times(cast, standard):
    ticket = open_ticket(cast)
    before = ticket.resolution_due_at
    services.change_priority(cast.partner, ticket, impact=1, urgency=1, source="web")
    ticket.refresh_from_db()
    assert ticket.priority == 1 and ticket.resolution_due_at < before


def test_resolving_clears_the_soonest_due_time(cast, standard):
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, "resolved", source="web")
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


@pytest.mark.parametrize("status", ["waiting_third_party", "scheduled"])
def test_third_parties_and_scheduled_visits_pause_too(cast, standard, status):
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, status, source="web")
    assert ClockPause.objects.get(ticket=ticket).reason == status
