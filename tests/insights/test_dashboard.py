"""The home page's dashboards: each figure against the database, each tile's link against the
queue it opens, a fixed number of queries, and who gets which dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils.text import slugify

from support.pages import NETWORK
from thirdway.audit.models import Source
from thirdway.insights import dashboard
from thirdway.network import services as network
from thirdway.tickets import services
from thirdway.tickets.lifecycle import LABELS, OPEN, Status
from thirdway.tickets.models import Ticket

from .conftest import more_partners, shown_numbers, tiles

DESK = ["admin", "desk"]
PARTNERS = ["partner", "associate", "other_partner"]


def _figures(page_html: str) -> dict[str, int]:
    return {name: count for name, (count, _) in tiles(page_html).items()}


# --- the desk ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", DESK)
def test_the_desk_dashboard_counts_each_figure_as_the_database_does(
    cast, board, web_as, page, role
):
    now, opened = board.now, Ticket.objects.filter(status__in=OPEN)
    shown = _figures(page(web_as(getattr(cast, role)).get("/")))
    expected = {
        "open": opened.count(),
        "unassigned": opened.filter(assignee__isnull=True).count(),
        "unassignable": opened.filter(assignee__isnull=True)
        .exclude(unassignable_reason="")
        .count(),
        "sla-1": Ticket.objects.filter(sla_due_at__lte=now).count(),
        "sla-2": Ticket.objects.filter(sla_due_at__lte=now + dt.timedelta(hours=1)).count(),
        "sla-3": Ticket.objects.filter(sla_due_at__lte=now + dt.timedelta(hours=4)).count(),
    }
    for status in (s for s in Status if s in OPEN):
        expected[f"status-{slugify(LABELS[status])}"] = opened.filter(status=status).count()
    for priority in (1, 2, 3, 4):
        expected[f"priority-p{priority}"] = opened.filter(priority=priority).count()
    for days in (7, 30):
        recent = Ticket.objects.filter(resolved_at__gte=now - dt.timedelta(days=days))
        expected[f"resolved-{days}d"] = recent.count()
        expected[f"missed-{days}d"] = recent.filter(resolved_at__gt=F("resolution_due_at")).count()
    for partner in (cast.partner_record, cast.other_partner_record, cast.associate_record):
        expected[f"load-{partner.pk}"] = opened.filter(assignee=partner).count()
    assert {name: shown[name] for name in expected} == expected
    # The arrangement itself, so that the comparison above is not between empty sets.
    assert (expected["open"], expected["unassigned"], expected["unassignable"]) == (8, 3, 1)
    assert (expected["sla-1"], expected["sla-2"], expected["sla-3"]) == (1, 2, 3)
    assert (expected["resolved-7d"], expected["missed-7d"]) == (2, 1)
    assert (expected["resolved-30d"], expected["missed-30d"]) == (3, 2)
    assert expected[f"load-{cast.partner_record.pk}"] == 4


def test_attainment_and_load_are_given_as_shares(cast, board):
    figures = dashboard.desk_dashboard(cast.admin, board.now)
    week, month = figures.attainment
    assert (week.days, week.percent, week.late_percent) == (7, 50, 50)
    assert (month.days, month.met, month.percent) == (30, 1, 33)
    paula = next(load for load in figures.load if load.partner_id == cast.partner_record.pk)
    assert (paula.open, paula.capacity, paula.percent, paula.over) == (4, 8, 50, False)
    assert figures.load[0] == paula  # the fullest first
    assert figures.by_status[0].label == "New" and figures.by_status[0].percent == 100


def test_nothing_resolved_has_no_attainment_rather_than_zero(cast, frozen_now):
    figures = dashboard.desk_dashboard(cast.admin, frozen_now())
    assert [row.percent for row in figures.attainment] == [None, None]
    assert figures.open_total == 0


@pytest.mark.parametrize("role", DESK)
def test_every_desk_tile_opens_the_queue_on_exactly_the_tickets_it_counts(
    cast, board, web_as, page, role
):
    client = web_as(getattr(cast, role))
    found = tiles(page(client.get("/")))
    assert len(found) >= 20
    numbers = {ticket.pk: ticket.number for ticket in Ticket.objects.all()}
    for name, (count, href) in found.items():
        assert href.startswith("/tickets/?queue="), name
        rows = shown_numbers(page(client.get(href)))
        assert len(rows) == count, (name, href, rows)
    # And the very tickets, for the figures the board was built around.
    expected = {
        "unassigned": board.pk("new_p1", "new_nobody", "unassigned_p3"),
        "unassignable": board.pk("new_nobody"),
        "sla-2": board.pk("new_p1", "new_nobody"),
        "missed-30d": board.pk("resolved_late", "resolved_old"),
        f"load-{cast.partner_record.pk}": board.pk(
            "paula_work", "paula_visit", "paula_late", "paula_waiting"
        ),
    }
    for name, pks in expected.items():
        rows = shown_numbers(page(client.get(found[name][1])))
        assert set(rows) == {numbers[pk] for pk in pks}, name


def test_on_call_and_away_now_are_shown_to_the_desk(cast, board, web_as, page, section):
    network.create_rota(
        cast.admin,
        name="Security nights",
        practice=cast.security,
        kind="weekly",
        time_zone="Europe/Paris",
        handover_time=dt.time(9, 0),
        starts_on=board.now.date() - dt.timedelta(days=board.now.weekday()),
        members=[cast.other_partner_record, cast.partner_record],
        source=Source.CLI,
    )
    network.add_absence(
        cast.admin,
        cast.associate_record,
        kind="sick",
        starts_at=board.now - dt.timedelta(hours=3),
        ends_at=board.now + dt.timedelta(days=2),
        source=Source.CLI,
    )
    html = page(web_as(cast.desk).get("/"))
    on_call = section(html, "on-call-now")
    assert "Security · Security nights:" in on_call
    assert "Oscar Other</a>" in on_call
    assert "Ada Associate</a> — Sick until" in section(html, "away-now")


def test_a_rota_with_nobody_free_shows_nobody(cast, board, web_as, page, section):
    network.create_rota(
        cast.admin,
        name="Desk nights",
        practice=None,
        kind="daily",
        time_zone="UTC",
        handover_time=dt.time(8, 0),
        starts_on=board.now.date(),
        members=[cast.associate_record],
        source=Source.CLI,
    )
    network.add_absence(
        cast.admin,
        cast.associate_record,
        kind="training",
        starts_at=board.now - dt.timedelta(hours=1),
        ends_at=board.now + dt.timedelta(hours=1),
        source=Source.CLI,
    )
    on_call = section(page(web_as(cast.admin).get("/")), "on-call-now")
    assert "Desk · Desk nights:" in on_call
    assert ">nobody</span>" in on_call


# --- a partner ---------------------------------------------------------------------------------


def test_a_partners_dashboard_counts_their_queue_and_todays_visits_in_their_zone(
    cast, board, web_as, page, section
):
    html = page(web_as(cast.partner).get("/"))
    shown = _figures(html)
    mine = Ticket.objects.filter(assignee__user=cast.partner, status__in=OPEN)
    assert shown["mine"] == mine.count() == 4
    # Today in Auckland runs from 11:00 UTC yesterday to 11:00 UTC today.
    start = dt.datetime(2025, 1, 14, 11, 0, tzinfo=dt.UTC)
    today = mine.filter(visit_starts_at__gte=start, visit_starts_at__lt=start + dt.timedelta(1))
    assert shown["visits"] == today.count() == 1
    assert board.tickets["paula_visit"].number in section(html, "visits-today")
    assert board.tickets["paula_late"].number not in section(html, "visits-today")
    assert "desk-dashboard" not in html
    assert "Load per partner" not in html


def test_a_partners_queue_comes_by_due_time_the_breached_first(cast, board, web_as, page, section):
    # Breached while it waits on the client: its clock ran out before it paused.
    waiting = Ticket.objects.filter(pk=board.tickets["paula_waiting"].pk)
    waiting.update(sla_due_at=board.now - dt.timedelta(hours=2))
    queue = section(page(web_as(cast.partner).get("/")), "my-queue")
    order = [board.tickets[name].number for name in ("paula_waiting", "paula_work")]
    assert queue.index(order[0]) < queue.index(order[1])
    assert queue.count('class="breached"') == 1
    # Tickets without a running clock come after those with one.
    assert queue.index(order[1]) < queue.index(board.tickets["paula_visit"].number)


def test_every_partner_tile_opens_the_queue_on_exactly_the_tickets_it_counts(
    cast, board, web_as, page
):
    client = web_as(cast.partner)
    found = tiles(page(client.get("/")))
    assert set(found) == {"mine", "visits"}
    for name, (count, href) in found.items():
        rows = shown_numbers(page(client.get(href)))
        assert len(rows) == count, (name, href)
    visits = shown_numbers(page(client.get(found["visits"][1])))
    assert visits == [board.tickets["paula_visit"].number]


def test_a_partner_sees_their_on_call_shifts_of_the_next_two_weeks(
    cast, board, web_as, page, section
):
    rota = network.create_rota(
        cast.admin,
        name="Security weekends",
        practice=cast.security,
        kind="daily",
        time_zone="UTC",
        handover_time=dt.time(9, 0),
        starts_on=board.now.date(),
        members=[cast.other_partner_record, cast.associate_record],
        source=Source.CLI,
    )
    network.add_override(
        cast.admin,
        rota,
        cast.partner_record,
        starts_at=board.now + dt.timedelta(days=2),
        ends_at=board.now + dt.timedelta(days=2, hours=6),
        source=Source.CLI,
    )
    shifts = dashboard.my_shifts(cast.partner, board.now)
    start = board.now + dt.timedelta(days=2)
    assert [(s.rota, s.starts_at, s.ends_at) for s in shifts] == [
        ("Security weekends", start, start + dt.timedelta(hours=6))
    ]
    # Shown in Paula's zone, Auckland: 10:00 UTC is 23:00 there.
    html = section(page(web_as(cast.partner).get("/")), "my-shifts")
    assert "Fri 17 Jan 23:00 – Sat 18 Jan 05:00" in html
    # Ada is on call every other day of a daily rota: seven turns in fourteen days.
    assert len(dashboard.my_shifts(cast.associate, board.now)) == 7


# --- who gets which ----------------------------------------------------------------------------


def test_only_the_network_gets_a_dashboard_each_its_own(cast, board, web_as, role, page):
    # Client contacts are sent on to the portal.
    html = page(web_as(getattr(cast, role)).get("/", follow=True))
    assert ("desk-dashboard" in html) == (role in DESK)
    assert ("partner-dashboard" in html) == (role in NETWORK and role not in DESK)
    if role not in NETWORK:
        assert 'data-tile="' not in html
        assert "desk-dashboard" not in html and "partner-dashboard" not in html


# --- a fixed number of queries -----------------------------------------------------------------


def _security_days(cast, board) -> None:
    """One rota to begin with: with none, the look-ups of its members are not even asked."""
    network.create_rota(
        cast.admin,
        name="Security days",
        practice=cast.security,
        kind="daily",
        time_zone="UTC",
        handover_time=dt.time(9, 0),
        starts_on=board.now.date(),
        members=[cast.partner_record, cast.associate_record],
        source=Source.CLI,
    )


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries)


def _grow(cast, board, tickets: int, partners: int) -> None:
    extra = more_partners(cast, partners)
    every = [cast.partner_record, cast.other_partner_record, *extra]
    for n in range(tickets):
        ticket = services.create_ticket(
            cast.admin,
            cast.acme if n % 2 else cast.globex,
            subject=f"More {n}",
            body_text="More work",
            priority=1 + n % 4,
            priority_reason="as agreed with the client",
            visit_starts_at=board.now - dt.timedelta(hours=n % 30),
            source=Source.CLI,
        )
        services.assign(cast.admin, ticket, every[n % len(every)], source=Source.CLI)
        if n % 3 == 0:
            services.assign(cast.admin, ticket, cast.partner_record, source=Source.CLI)
    network.create_rota(
        cast.admin,
        name="Extra rota",
        practice=cast.networking,
        kind="daily",
        time_zone="UTC",
        handover_time=dt.time(9, 0),
        starts_on=board.now.date(),
        members=extra[:10],
        source=Source.CLI,
    )
    for partner in extra[:8]:
        network.add_absence(
            cast.admin,
            partner,
            kind="vacation",
            starts_at=board.now - dt.timedelta(days=1),
            ends_at=board.now + dt.timedelta(days=1),
            source=Source.CLI,
        )


@pytest.mark.parametrize("role", ["admin", "desk", "partner", "associate"])
def test_the_dashboard_takes_the_same_number_of_queries_with_5_or_50_tickets_and_partners(
    cast, board, web_as, role
):
    _security_days(cast, board)
    client = web_as(getattr(cast, role))
    client.get("/")
    few = _queries(client)
    _grow(cast, board, tickets=45, partners=46)
    assert Ticket.objects.count() >= 50
    many = _queries(client)
    assert few == many
    # The session, the user, two counts of the page's head, then the dashboard's own.
    assert many <= 14


def test_the_figures_are_counted_in_grouped_queries(cast, board):
    _security_days(cast, board)
    with CaptureQueriesContext(connection) as queries:
        dashboard.desk_dashboard(cast.admin, board.now)
    # status and priority; the single figures and attainment; loads; on call (rotas, members,
    # overrides, absences, names); away
    assert len(queries) == 9
    with CaptureQueriesContext(connection) as queries:
        dashboard.partner_dashboard(cast.partner, board.now)
    # mine (count, first ten); visits (count, list); shifts (self, rotas, members, overrides,
    # absences); away
    assert len(queries) == 10


def test_the_queue_refuses_an_unknown_window_and_filters_nothing(cast, board, web_as, page):
    html = page(web_as(cast.admin).get("/tickets/", {"queue": "all", "sla": "soon2h"}))
    assert "Select a valid choice" in html
    assert len(shown_numbers(html)) == Ticket.objects.count()


def test_a_reopened_ticket_leaves_the_attainment(cast, board):
    ticket = board.tickets["resolved_late"]
    services.change_status(cast.admin, ticket, "in_progress", source=Source.CLI)
    figures = dashboard.desk_dashboard(cast.admin, board.now)
    assert (figures.attainment[0].resolved, figures.attainment[0].missed) == (1, 0)
    assert Ticket.objects.filter(Q(pk=ticket.pk), resolved_at__isnull=True).exists()
