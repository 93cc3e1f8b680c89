"""Every filter and cost term of one ticket, vectorised over the partner pool."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from thirdway.dispatch.engine.cover import PartnerIndex
from thirdway.dispatch.engine.inputs import (
    EXPERT_LEVEL,
    PRIORITIES,
    Flags,
    Floats,
    Ints,
    Num,
    Rows,
    TicketNeed,
    Weights,
    epoch,
)
from thirdway.dispatch.engine.terms import (
    continuity_cost,
    skill_fit_cost,
    sla_slack_cost,
    travel_cost,
)

_T = TypeVar("_T", bound=np.generic)
# When nobody within their limits can take an urgent ticket in time, the limits below become
# costs instead of walls. Each stretched limit costs this much more than any partner inside
# them could (each term is at most its weight, about 1), plus a price for how far it is
# stretched, so the smallest stretch of the fewest limits is chosen.
STRETCH_COST = 10.0
# Radius: per km beyond it, and at most this multiple of itself: beyond, the drive itself
# would cost the ticket more time than waiting for someone nearer.
STRETCH_COST_PER_KM = 0.05
STRETCH_MOST = 1.5
# Level: one below the ticket's at the most, and only in a practice the partner practises.
STRETCH_LEVELS = 1
STRETCH_COST_PER_LEVEL = 2.0
# Shift: a partner off shift and not on call, neither absent nor busy, whose next shift or
# on-call turn starts within this long, may be called in now; per hour before it.
STRETCH_SHIFT_S = 3600
STRETCH_COST_PER_HOUR = 1.0
# Level and shift are stretched for urgent work only. The radius is stretched for any on-site
# work that nobody within their limits can respond to before it is due: for P3 and P4 too
# (only the radius: level and shift stay walls for routine work), half as far again at most
# unless nobody with the skill (and the language) serves the site at all.
STRETCH_PRIORITIES = ("P1", "P2")
# Nobody with the skill has the site within half as far again as their radius: the radius is
# no wall at all then, but beyond that bound it costs this much more, and per km beyond the
# radius, so anyone within the bound who can respond wins.
STRETCH_FAR_COST = 20.0
STRETCH_FAR_COST_PER_KM = 0.1
# Routine work beyond half as far again as a radius, where someone serves the site: only to a
# partner idle now (on shift, not busy, nothing open) whose own area is quiet, the partners whose
# home lies within their radius of theirs using at most STRETCH_IDLE_AREA_LOAD of their
# capacity on average, as far as STRETCH_IDLE_MOST times their radius, and only while the
# ticket can still be answered in time. A busy week then never sends anyone far while their own
# area waits, and nobody drives far for a response already late.
STRETCH_IDLE_AREA_LOAD = 0.15
STRETCH_IDLE_MOST = 2.5
# A partner already out on a visit (``PartnerState.drive_from``) may take a site beyond their
# radius when the drive from that visit is within it, as long as the site is no farther from
# home than this multiple of the radius: on the way, not a drift away from home.
FROM_VISIT_MOST = 1.5
# The drive counts for more where it cannot make the ticket late: times TRAVEL_IN_TIME for a
# partner who can start within the first TRAVEL_IN_TIME_SLACK of the remaining response time,
# and times TRAVEL_ROUTINE more for routine (P3, P4) work; an urgent ticket at risk keeps the
# plain travel weight, so the nearest of those who can still make it is not bought by a drive.
# While the ticket's skill is in surge (``TicketNeed.surge``) routine work loses its extra
# factor: with the skill's queues that deep a start estimated in time is not a safe one, and
# a P3 bought by a shorter drive waits behind the storm's urgent work.
TRAVEL_IN_TIME = 2.5
TRAVEL_IN_TIME_SLACK = 0.5
TRAVEL_ROUTINE = 1.5
# The limits that may be stretched, in the order the explanation names them.
LIMITS = ("radius", "level", "shift")
_MARK_IS_LEAD = np.array([False, False, True])
_MARK_IS_RECENT = np.array([False, True, False])


@dataclass(frozen=True, slots=True)
class _Cover:
    """When each partner can start on a ticket; seconds since the index origin.

    Only what filtering and costing need is computed up front; the details shown to
    people (kind of cover, when it ends, when the next begins) are derived per position.
    """

    target: int
    start: Floats
    by_shift: Flags
    by_call: Flags
    unavailable: Flags
    absent_now: Flags
    busy: Flags
    shift_start: Floats
    shift_end: Floats
    call_start: Floats
    call_end: Floats

    def kinds(self, at: Rows) -> Ints:
        """1 = on shift, 2 = on call, 3 = neither (only an escalation gets such a partner)."""
        return np.where(self.by_shift[at], 1, np.where(self.by_call[at], 2, 3))

    def ends(self, at: Rows) -> Floats:
        return np.where(self.by_shift[at], self.shift_end[at], self.call_end[at])

    def next_start(self, at: int) -> float:
        return float(min(self.shift_start[at], self.call_start[at]))


def _take(values: npt.NDArray[_T], rows: Rows | None) -> npt.NDArray[_T]:
    return values if rows is None else values[rows]


def _availability(index: PartnerIndex, ticket: TicketNeed, now: int, rows: Rows | None) -> _Cover:
    clock = index._clock(now)
    shift_start, call_start = _take(clock.shift_start, rows), _take(clock.call_start, rows)
    shift_end, call_end = _take(clock.shift_end, rows), _take(clock.call_end, rows)
    free = _take(index._free[PRIORITIES.index(ticket.priority)], rows)
    busy = free > now
    if busy.any():
        # Busy partners can start once through their work in hand, at their next cover.
        at = np.flatnonzero(busy)
        where = at if rows is None else rows[at]
        shift_start, shift_end, call_start, call_end = (
            a.astype(float) for a in (shift_start, shift_end, call_start, call_end)
        )
        shift_start[at], shift_end[at] = index._shifts.next_after_rows(where, free[at])
        call_start[at], call_end[at] = index._calls.next_after_rows(where, free[at])
    # Overdue tickets still get dispatched, but only to someone who can start right now.
    target = max(epoch(ticket.response_due_at) - index.origin_s, now)
    # Prefer the shift when it starts in time: nobody is paged for work that can wait for
    # the next shift. After hours, when it cannot wait, only on-call cover passes.
    by_shift = shift_start <= target
    by_call = ~by_shift & (call_start <= target)
    return _Cover(
        target=target,
        start=np.where(by_shift, shift_start, np.where(by_call, call_start, now)),
        by_shift=by_shift,
        by_call=by_call,
        unavailable=~(by_shift | by_call),
        absent_now=_take(clock.absent_now, rows),
        busy=busy,
        shift_start=shift_start,
        shift_end=shift_end,
        call_start=call_start,
        call_end=call_end,
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Filters and costs of one ticket against partners ``rows`` of the index.

    Every array is parallel to ``rows`` (all partners, in id order, unless evaluated for
    a subset), so "position" below means a position in these arrays.
    """

    rows: Rows
    now: int
    cover: _Cover
    level: Ints
    failures: dict[str, Flags]
    bypass: Flags
    stretched: Flags
    stretched_by: dict[str, Flags]
    feasible: Flags
    # From each partner's home (their service area: the radius and its stretch), and the
    # drive from where they will be (the travel term; ``PartnerState.drive_from``).
    distance: Floats | None
    drive: Floats | None
    # How far the nearest partner with the skill and language is from serving the site: the
    # least distance over radius of the whole pool (None when not asked: no stretch, remote).
    reach: float | None
    continuity: npt.NDArray[np.int8]
    tier: npt.NDArray[np.int8]
    terms: dict[str, Floats]
    total: Floats


@overload
def within_radius(home_km: float, drive_km: float, radius_km: float) -> bool: ...
@overload
def within_radius(home_km: Floats, drive_km: Floats, radius_km: Floats) -> Flags: ...
def within_radius(home_km: Num, drive_km: Num, radius_km: Num) -> bool | Flags:
    """Whether a site is within a partner's reach: within their radius of home, or within
    their radius of the visit they drive on from and ``FROM_VISIT_MOST`` times it of home."""
    from_visit = np.less_equal(drive_km, radius_km) & np.less_equal(
        home_km, np.multiply(radius_km, FROM_VISIT_MOST)
    )
    reach: bool | Flags = np.less_equal(home_km, radius_km) | from_visit
    return reach


def _continuity(ticket: TicketNeed, index: PartnerIndex, rows: Rows | None) -> npt.NDArray[np.int8]:
    """Per position: 2 for the client's lead partner, 1 for a recent partner, else 0."""
    recent = [index._by_id[p] for p in ticket.recent_partner_ids if p in index._by_id]
    lead_id = ticket.client_lead_partner_id
    lead = -1 if lead_id is None else index._by_id.get(lead_id, -1)
    if rows is None:
        continuity = np.zeros(len(index), dtype=np.int8)
        continuity[recent] = 1
        if lead >= 0:
            continuity[lead] = 2
        return continuity
    # Subsets are a handful of rows (explaining one assignment), so plain Python wins.
    recent_rows = set(recent)
    marks = [2 if row == lead else int(row in recent_rows) for row in rows.tolist()]
    return np.array(marks, dtype=np.int8)


def _reach(ticket: TicketNeed, index: PartnerIndex, rows: Rows | None, distance: Floats) -> float:
    """The least distance over radius of the partners of the whole pool with the skill at
    the level needed and the language (inf when nobody has both)."""
    if rows is not None:  # a few partners explained: the pool's answer is the same
        assert ticket.onsite_location is not None
        distance = index.distances_km(ticket.onsite_location)
    qualified = index.levels(ticket.practice) >= ticket.required_level
    if ticket.language is not None:
        qualified = qualified & index.speaks(ticket.language)
    if not qualified.any():
        return float("inf")
    return float(np.min(distance[qualified] / np.maximum(index._radius[qualified], 1e-9)))


def _stretchable(
    ticket: TicketNeed,
    index: PartnerIndex,
    rows: Rows | None,
    failures: dict[str, Flags],
    level: Ints,
    cover: _Cover,
    distance: Floats | None,
    now: int,
    reach: float | None,
) -> dict[str, Flags]:
    """Per limit, the positions kept out by it alone that a stretch within bounds lets in.
    Urgent work may stretch every limit; routine work the radius only. The radius has no
    bound when nobody with the skill is within ``STRETCH_MOST`` of theirs."""
    within: dict[str, Flags] = {}
    if ticket.priority in STRETCH_PRIORITIES:
        within["level"] = (
            failures["skill"] & (level >= 1) & (level >= ticket.required_level - STRETCH_LEVELS)
        )
        within["shift"] = (
            cover.unavailable
            & ~cover.absent_now
            & ~cover.busy
            & (np.minimum(cover.shift_start, cover.call_start) - now <= STRETCH_SHIFT_S)
        )
    if distance is not None:
        if reach is not None and reach > STRETCH_MOST:
            within["radius"] = failures["radius"]
        else:
            bound = _take(index._radius, rows) * STRETCH_MOST
            within["radius"] = failures["radius"] & (distance <= bound)
            if ticket.priority not in STRETCH_PRIORITIES:
                idle = _idle_in_quiet_area(ticket, index, rows, failures, cover, distance, now)
                within["radius"] |= idle
    # Out for a reason no stretch mends (capacity, language, no skill at all, absent...).
    hard = np.zeros(len(level), dtype=bool)
    for name, mask in failures.items():
        limit = _LIMIT_OF.get(name)
        hard |= mask & ~within[limit] if limit in within else mask
    return {name: mask & ~hard for name, mask in within.items()}


def _idle_in_quiet_area(
    ticket: TicketNeed,
    index: PartnerIndex,
    rows: Rows | None,
    failures: dict[str, Flags],
    cover: _Cover,
    distance: Floats,
    now: int,
) -> Flags:
    """The positions a routine ticket's radius stretches for beyond half as far again: partners
    idle now, within ``STRETCH_IDLE_MOST`` times their radius, whose own area is quiet
    (``STRETCH_IDLE_AREA_LOAD``), while the ticket is not yet overdue."""
    radius = _take(index._radius, rows)
    far = failures["radius"] & (distance > radius * STRETCH_MOST)
    far &= distance <= radius * STRETCH_IDLE_MOST
    if epoch(ticket.response_due_at) <= now + index.origin_s:
        far[:] = False
    # On shift now (on call is kept for urgent work), not busy, nothing open.
    idle: Flags = far & cover.by_shift & (cover.start <= now) & ~cover.busy
    idle &= _take(index._load, rows) == 0
    if idle.any():
        at = np.flatnonzero(idle)
        quiet = index.area_load(at if rows is None else rows[at]) <= STRETCH_IDLE_AREA_LOAD
        idle[at[~quiet]] = False
    return idle


# The filter each stretchable limit relaxes.
_LIMIT_OF = {"radius": "radius", "skill": "level", "availability": "shift"}


def _stretch_cost(
    ticket: TicketNeed,
    index: PartnerIndex,
    rows: Rows | None,
    by: dict[str, Flags],
    level: Ints,
    cover: _Cover,
    distance: Floats | None,
    now: int,
) -> Floats:
    """The steep price of each position's stretched limits (0 where none is)."""
    cost = np.zeros(len(level))
    if "radius" in by and distance is not None:
        radius = _take(index._radius, rows)
        beyond = np.maximum(distance - radius, 0.0)
        near = STRETCH_COST + STRETCH_COST_PER_KM * beyond
        far = STRETCH_FAR_COST + STRETCH_FAR_COST_PER_KM * beyond
        cost += np.where(by["radius"], np.where(distance > radius * STRETCH_MOST, far, near), 0.0)
    short = np.maximum(ticket.required_level - level, 0)
    cost += np.where(by["level"], STRETCH_COST + STRETCH_COST_PER_LEVEL * short, 0.0)
    early_h = (np.minimum(cover.shift_start, cover.call_start) - now) / 3600
    cost += np.where(by["shift"], STRETCH_COST + STRETCH_COST_PER_HOUR * early_h, 0.0)
    return cost


def _travel_factor(ticket: TicketNeed, cover: _Cover, now: int) -> Floats:
    """How many times the travel weight each partner's drive counts (``TRAVEL_IN_TIME``)."""
    in_time = sla_slack_cost(cover.start, now, cover.target) <= TRAVEL_IN_TIME_SLACK
    factor = np.where(in_time, TRAVEL_IN_TIME, 1.0)
    routine = ticket.priority not in STRETCH_PRIORITIES and not ticket.surge
    return factor * TRAVEL_ROUTINE if routine else factor


def evaluate(
    ticket: TicketNeed,
    index: PartnerIndex,
    weights: Weights,
    now_s: int,
    rows: Rows | None = None,
    stretch: bool | None = None,
) -> Evaluation:
    """Every filter and cost term for ``ticket``, vectorised over partners ``rows`` (all).

    ``stretch`` says whether limits may be stretched (nobody within theirs can take the
    ticket in time); None decides it from the partners evaluated, which is right for the
    whole pool (a caller explaining a few partners passes what the whole pool said)."""
    n = len(index) if rows is None else len(rows)
    now = now_s - index.origin_s
    level = _take(index.levels(ticket.practice), rows)
    cover = _availability(index, ticket, now, rows)
    failures = {"skill": level < ticket.required_level, "availability": cover.unavailable}
    distance = drive = None
    if ticket.needs_onsite and ticket.onsite_location is not None:
        distance = index.distances_km(ticket.onsite_location, rows)
        drive = index.drives_km(ticket.onsite_location, ticket.priority, rows, distance)
        failures["radius"] = ~within_radius(distance, drive, _take(index._radius, rows))
    failures["capacity"] = _take(index._at_capacity, rows)
    if ticket.language is not None:
        failures["language"] = ~_take(index.speaks(ticket.language), rows)
    expert = level >= max(EXPERT_LEVEL, ticket.required_level)
    bypass = cover.unavailable & expert if ticket.escalate else np.zeros(n, dtype=bool)
    blocked = failures["availability"] & ~bypass
    for name, mask in failures.items():
        if name != "availability":
            blocked = blocked | mask
    # Nobody within their limits can take the ticket in time: rather than strand it, partners
    # kept out only by their radius (any on-site work), level or shift (urgent work), each
    # within bounds, become candidates at a steep price, so the smallest stretch wins and the
    # explanation says so.
    if stretch is None:
        stretch = not (~blocked).any()
    by = {name: np.zeros(n, dtype=bool) for name in LIMITS}
    stretch_cost = np.zeros(n)
    reach = None
    if stretch and distance is not None:
        reach = _reach(ticket, index, rows, distance)
    if stretch and (ticket.priority in STRETCH_PRIORITIES or distance is not None):
        by.update(_stretchable(ticket, index, rows, failures, level, cover, distance, now, reach))
        stretch_cost = _stretch_cost(ticket, index, rows, by, level, cover, distance, now)
    stretched = by["radius"] | by["level"] | by["shift"]
    if stretched.any():
        blocked = blocked & ~stretched
        # Called in off shift: they start now.
        cover = replace(cover, start=np.where(by["shift"], float(now), cover.start))
    continuity = _continuity(ticket, index, rows)
    # The cost of each continuity mark (0 none, 1 recent, 2 lead), then one gather.
    by_mark = continuity_cost(_MARK_IS_LEAD, _MARK_IS_RECENT, weights.recent_partner_share)
    terms = {
        "sla_slack": weights.sla_slack * sla_slack_cost(cover.start, now, cover.target),
        "skill_fit": weights.skill_fit * skill_fit_cost(level, ticket.required_level),
        "load": weights.load * _take(index._load_share, rows),
        "continuity": weights.continuity * by_mark[continuity],
        "scarcity": weights.scarcity * _take(index.scarcity(ticket.practice), rows),
        "stretch": stretch_cost,
    }
    total = cast(Floats, sum(terms.values()))  # six terms, never the empty sum's 0
    if drive is None:
        terms["travel"] = np.zeros(n)
    else:
        hours = travel_cost(drive, weights.travel_speed_kmh)
        terms["travel"] = weights.travel * _travel_factor(ticket, cover, now) * hours
        total = total + terms["travel"]
    if ticket.desk_tier:
        tier = (~_take(index._is_desk, rows)).astype(np.int8)
    else:
        tier = np.zeros(n, dtype=np.int8)
    return Evaluation(
        rows=np.arange(n) if rows is None else rows,
        now=now,
        cover=cover,
        level=level,
        failures=failures,
        bypass=bypass,
        stretched=stretched,
        stretched_by=by,
        feasible=~blocked,
        distance=distance,
        drive=drive,
        reach=reach,
        continuity=continuity,
        tier=tier,
        terms=terms,
        total=total,
    )


def _ranked(ev: Evaluation) -> Rows:
    """Feasible positions, best first: not escalated, preferred tier, cheaper, lower id."""
    feasible = np.flatnonzero(ev.feasible)
    # Rounding keeps float noise from deciding a tie that the partner id should decide.
    total = np.round(ev.total[feasible], 9)
    order = np.lexsort((ev.rows[feasible], total, ev.tier[feasible], ev.bypass[feasible]))
    return feasible[order]
