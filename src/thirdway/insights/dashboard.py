"""The figures of the home page's dashboards, as plain data: the page only draws them.

Every figure is one of a few grouped queries, however many tickets, partners or rotas there
are, and every ticket figure links to the desk's queue filtered to exactly the tickets it
counts (the same conditions, through the queue's own filters).

* The desk's dashboard (practice admins, desk agents): open tickets by status and priority,
  unassigned, nobody can take, breached and breaching within 1 h / 4 h, SLA attainment over
  the last 7 and 30 days, each partner's load against their capacity, who is on call and who
  is away now.
* A partner's dashboard (partners, associates): their open tickets by due time, today's visits
  (the day of the viewer's own time zone), their on-call shifts ahead, and who is away now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, F, Q
from django.urls import reverse

from thirdway.accounts.models import Role
from thirdway.network.models import Absence, Partner, Rota
from thirdway.network.oncall import plans_of
from thirdway.tickets.filters import RESOLVED_WITHIN, SLA_WINDOWS, day_bounds
from thirdway.tickets.lifecycle import LABELS, OPEN, Status
from thirdway.tickets.models import Ticket
from thirdway.tickets.sla_clocks.clocks import BREACHES_SOONEST

DESK_ROLES = frozenset({Role.PRACTICE_ADMIN, Role.DESK})
PARTNER_ROLES = frozenset({Role.PARTNER, Role.ASSOCIATE})
# Open statuses in the order work moves through them.
OPEN_ORDER = [status for status in Status if status in OPEN]
PRIORITIES = (1, 2, 3, 4)
# The busiest partners shown (by load against capacity); the rest are a link away.
LOAD_ROWS = 12
AWAY_ROWS = 20
QUEUE_ROWS = 10
SHIFT_DAYS = 14
ATTAINMENT_DAYS = (7, 30)


def queue_link(queue: str, **filters: object) -> str:
    """The desk's queue with these filters, e.g. ``queue_link("all", status="open")``."""
    return reverse("tickets:queue") + "?" + urlencode({"queue": queue, **filters})


# --- what the pages draw -----------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One figure and the queue that lists what it counts."""

    label: str
    count: int
    href: str


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: ``percent`` is its length against the chart's longest (0 to 100)."""

    label: str
    count: int
    href: str
    percent: int


@dataclass(frozen=True)
class Attainment:
    """Tickets resolved in the last ``days`` days, and those resolved after they were due.

    A ticket without a resolution target (no SLA, or resolved while its clock was paused
    within target) has no due time to miss, so it counts as met."""

    days: int
    resolved: int
    missed: int
    resolved_href: str
    missed_href: str

    @property
    def met(self) -> int:
        return self.resolved - self.missed

    @property
    def percent(self) -> int | None:
        return None if not self.resolved else round(100 * self.met / self.resolved)

    @property
    def late_percent(self) -> int:
        return 0 if self.percent is None else 100 - self.percent


@dataclass(frozen=True)
class Load:
    """A partner's open tickets against the number they can carry."""

    partner_id: int
    name: str
    open: int
    capacity: int
    href: str

    @property
    def percent(self) -> int:
        """How full, 0 to 100 (an over-full partner stays at 100: see ``over``)."""
        if not self.capacity:
            return 100 if self.open else 0
        return min(100, round(100 * self.open / self.capacity))

    @property
    def over(self) -> bool:
        return self.open > self.capacity


@dataclass(frozen=True)
class OnCall:
    rota: str
    practice: str
    partner_id: int | None
    partner: str | None


@dataclass(frozen=True)
class Away:
    partner_id: int
    partner: str
    kind: str
    ends_at: dt.datetime


@dataclass(frozen=True)
class Shift:
    rota: str
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class DeskDashboard:
    open_total: int
    by_status: list[Bar]
    by_priority: list[Bar]
    unassigned: Tile
    unassignable: Tile
    breaches: list[Tile]
    attainment: list[Attainment]
    load: list[Load]
    active_partners: int
    on_call: list[OnCall]
    away: list[Away]


@dataclass(frozen=True)
class PartnerDashboard:
    mine: Tile
    queue: list[Ticket]
    visits: Tile
    visit_list: list[Ticket]
    shifts: list[Shift]
    away: list[Away]


# --- the desk ----------------------------------------------------------------------------------


def desk_dashboard(user, now: dt.datetime) -> DeskDashboard:
    tickets = Ticket.objects.for_user(user).order_by()
    by_status, by_priority = _open_bars(tickets)
    counts = tickets.aggregate(**_count_conditions(now))
    loads, active = partner_loads(user)
    return DeskDashboard(
        open_total=sum(bar.count for bar in by_status),
        by_status=by_status,
        by_priority=by_priority,
        unassigned=Tile(
            "Unassigned", counts["unassigned"], queue_link("all", status="open", assignee="none")
        ),
        unassignable=Tile("Nobody can take", counts["unassignable"], queue_link("unassignable")),
        breaches=[
            Tile("Breached", counts["breached"], queue_link("all", sla="breached")),
            Tile("Breached or due within 1 h", counts["soon1h"], queue_link("all", sla="soon1h")),
            Tile("Breached or due within 4 h", counts["soon"], queue_link("all", sla="soon")),
        ],
        attainment=[
            Attainment(
                days,
                counts[f"resolved_{days}d"],
                counts[f"missed_{days}d"],
                queue_link("all", resolved=f"{days}d"),
                queue_link("all", resolved=f"{days}d", sla="missed"),
            )
            for days in ATTAINMENT_DAYS
        ],
        load=loads,
        active_partners=active,
        on_call=on_call_now(now),
        away=away_now(user, now),
    )


def _open_bars(tickets) -> tuple[list[Bar], list[Bar]]:
    """Open tickets by status and by priority, from one grouped query."""
    pairs = (
        tickets.filter(status__in=OPEN)
        .values_list("status", "priority")
        .annotate(n=Count("id"))
        .order_by()
    )
    statuses = dict.fromkeys(OPEN_ORDER, 0)
    priorities = dict.fromkeys(PRIORITIES, 0)
    for status, priority, n in pairs:
        statuses[Status(status)] += n
        priorities[priority] = priorities.get(priority, 0) + n
    by_status = _bars(
        (LABELS[status], n, queue_link("all", status=status.value))
        for status, n in statuses.items()
    )
    by_priority = _bars(
        (f"P{priority}", n, queue_link("all", status="open", priority=priority))
        for priority, n in priorities.items()
    )
    return by_status, by_priority


def _bars(rows) -> list[Bar]:
    rows = list(rows)
    longest = max((n for _, n, _ in rows), default=0) or 1
    return [Bar(label, n, href, round(100 * n / longest)) for label, n, href in rows]


def _count_conditions(now: dt.datetime) -> dict[str, Count]:
    """The single figures, each the condition its queue link applies."""
    unassigned = Q(assignee__isnull=True, status__in=OPEN)
    conditions = {
        "unassigned": unassigned,
        "unassignable": unassigned & ~Q(unassignable_reason=""),
        **{name: Q(sla_due_at__lte=now + ahead) for name, ahead in SLA_WINDOWS.items()},
    }
    for days in ATTAINMENT_DAYS:
        recent = Q(resolved_at__gte=now - RESOLVED_WITHIN[f"{days}d"])
        conditions[f"resolved_{days}d"] = recent
        conditions[f"missed_{days}d"] = recent & Q(resolved_at__gt=F("resolution_due_at"))
    return {name: Count("id", filter=condition) for name, condition in conditions.items()}


def partner_loads(user) -> tuple[list[Load], int]:
    """The busiest active partners by open tickets against capacity, and how many are active."""
    rows = (
        Partner.objects.for_user(user)
        .filter(is_active=True)
        .annotate(open=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN)))
        .values_list("pk", "name", "capacity", "open")
        .order_by()
    )
    loads = [
        Load(pk, name, n, capacity, queue_link("all", status="open", assignee=pk))
        for pk, name, capacity, n in rows
    ]
    loads.sort(key=lambda load: (-_fullness(load), -load.open, load.name))
    return loads[:LOAD_ROWS], len(loads)


def _fullness(load: Load) -> float:
    if not load.capacity:
        return float("inf") if load.open else 0.0
    return load.open / load.capacity


def on_call_now(now: dt.datetime) -> list[OnCall]:
    rotas = list(Rota.objects.select_related("practice"))
    plans = plans_of(rotas, now, now + dt.timedelta(seconds=1))
    who = {rota.pk: plan.on_call_at(now) for rota, plan in zip(rotas, plans, strict=True)}
    names = dict(
        Partner.objects.filter(pk__in={pk for pk in who.values() if pk}).values_list("pk", "name")
    )
    return [
        OnCall(
            rota.name,
            rota.practice.name if rota.practice else "Desk",
            who[rota.pk],
            names.get(who[rota.pk]) if who[rota.pk] else None,
        )
        for rota in rotas
    ]


def away_now(user, now: dt.datetime) -> list[Away]:
    absences = Absence.objects.for_user(user).current(now).select_related("partner")
    return [
        Away(a.partner_id, a.partner.name, a.get_kind_display(), a.ends_at)
        for a in absences[:AWAY_ROWS]
    ]


# --- a partner ---------------------------------------------------------------------------------


def partner_dashboard(user, now: dt.datetime) -> PartnerDashboard:
    # The same tickets as the queue "mine": open and assigned to the viewer.
    mine = Ticket.objects.filter(assignee__user=user, status__in=OPEN)
    start, end = day_bounds(now, user.time_zone)
    visits = mine.filter(visit_starts_at__gte=start, visit_starts_at__lt=end)
    return PartnerDashboard(
        mine=Tile("My open tickets", mine.count(), queue_link("mine", sort="sla")),
        queue=list(mine.select_related("client").order_by(*BREACHES_SOONEST)[:QUEUE_ROWS]),
        visits=Tile("Visits today", visits.count(), queue_link("mine", visit="today")),
        visit_list=list(
            visits.select_related("client", "site").order_by("visit_starts_at", "id")[:QUEUE_ROWS]
        ),
        shifts=my_shifts(user, now),
        away=away_now(user, now),
    )


def my_shifts(user, now: dt.datetime) -> list[Shift]:
    """The stretches of the next two weeks when the viewer is on call, soonest first."""
    me = Partner.objects.filter(user=user).values_list("pk", flat=True).first()
    if me is None:
        return []
    end = now + dt.timedelta(days=SHIFT_DAYS)
    rotas = list(
        Rota.objects.filter(Q(memberships__partner_id=me) | Q(overrides__partner_id=me)).distinct()
    )
    shifts = [
        Shift(rota.name, start, stop)
        for rota, plan in zip(rotas, plans_of(rotas, now, end), strict=True)
        for start, stop, who in plan.segments(now, end)
        if who == me
    ]
    return sorted(shifts, key=lambda shift: (shift.starts_at, shift.rota))
