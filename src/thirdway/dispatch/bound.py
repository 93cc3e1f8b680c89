"""The offline bound: the most first responses on time that any dispatcher could achieve
if it knew every arrival and every ticket's work in advance.

It is a time-indexed scheduling problem solved exactly with a MILP (scipy's HiGHS). Time
is cut into slots of ``min_service_s`` (no ticket needs less work); a ticket may start in
slot u of partner p when p is covered at some instant of u between the arrival and the
response due time; a started ticket occupies ``floor(work / slot)`` slots of p. Each of
these choices loosens the real problem, never tightens it:

- every partner who practises the ticket's practice at any level may take it (round-robin
  and least-loaded do), with the work of a fully qualified partner and no travel;
- starts are rounded down to their slot and durations down to whole slots, so any real
  schedule maps to a feasible one here (two starts on one partner are at least one
  duration apart, hence at least that many slots apart);
- tickets that would be late need no partner at all (they are left out, not queued).

So the optimum is an upper bound on the response-SLA attainment of every policy the
simulator runs. A second, tighter bound keeps only qualified partners and charges the drive
(see :func:`bound`). When the solver stops at its time limit, its proven dual bound is
reported instead, which is still an upper bound. Imports no Django.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix, vstack

from thirdway.dispatch.realism import WAIT_AT
from thirdway.dispatch.scenario import Scenario, SimTicket, travel_km
from thirdway.distance import haversine_km

# Each level a partner lacks makes the work this much longer (the simulator's rule).
SLOWDOWN_PER_LEVEL = 0.5


# The bounds, loosest first: who may start a ticket in each (see :func:`bound`).
KINDS = ("any_team_member", "qualified", "within_radius")
# The engine's limits and how far it stretches them (docs/dispatch.md, "When nobody is within
# reach"): urgent work one level below and one hour before cover, any work half as far again
# as the radius, routine work 2.5 times it (for a partner idle in a quiet area, which a bound
# cannot know), and without bound when nobody with the skill is half as far again as theirs.
URGENT = ("P1", "P2")
STRETCH_LEVELS, STRETCH_SHIFT_S, STRETCH_RADIUS = 1, 3600, 1.5
STRETCH_IDLE_RADIUS = 2.5


def _speaks(state: object, ticket: SimTicket) -> bool:
    return ticket.language is None or ticket.language in state.languages  # type: ignore[attr-defined]


def _eligible(partners: object, ticket: SimTicket, kind: str) -> list[tuple[int, int]]:
    """(row, levels lacking) of the partners who may start ``ticket`` in bound ``kind``.
    Every policy respects the ticket's language, so every bound does."""
    states = partners.states  # type: ignore[attr-defined]
    levels = [state.level_in(ticket.practice) for state in states]
    speaks = [_speaks(state, ticket) for state in states]
    if kind == "any_team_member":
        return [(r, 0) for r, level in enumerate(levels) if level >= 1 and speaks[r]]
    qualified = [r for r, level in enumerate(levels) if level >= ticket.level and speaks[r]]
    if kind == "qualified":
        return [(r, 0) for r in qualified]
    urgent = ticket.priority in URGENT
    lowest = max(1, ticket.level - STRETCH_LEVELS) if urgent else ticket.level
    rows = [r for r, level in enumerate(levels) if level >= lowest and speaks[r]]
    if ticket.onsite:
        distance = [float(haversine_km(s.home_lat, s.home_lon, *ticket.site)) for s in states]
        reach = min((distance[r] / max(states[r].radius_km, 1e-9) for r in qualified), default=0)
        if reach <= STRETCH_RADIUS:  # someone with the skill is near enough: a limit holds
            most = STRETCH_RADIUS if urgent else STRETCH_IDLE_RADIUS
            rows = [r for r in rows if distance[r] <= states[r].radius_km * most]
    return [(r, max(0, ticket.level - levels[r])) for r in rows]


def _start_slots(
    starts: Sequence[int], ends: Sequence[int], lo: int, hi: int, slot: int
) -> list[int]:
    """Slots holding an instant t with lo <= t <= hi while covered (start <= t < end)."""
    out: list[int] = []
    for s, e in zip(starts, ends, strict=True):
        if s > hi:
            break
        a, b = max(lo, s), min(hi, e - 1)
        if a <= b:
            first = a // slot
            if out and out[-1] >= first:
                first = out[-1] + 1
            out.extend(range(first, b // slot + 1))
    return out


def _work_s(scenario: Scenario, state: object, ticket: SimTicket, kind: str, gap: int) -> int:
    """What the partner is surely kept busy by the ticket, from its start: its work (slower
    per level lacking), with the drive out and back but for the loosest bound. Only the
    part before a wait on the client counts (the partner is free during it), and no drive
    with chained travel (a leg from the last visit may be shorter)."""
    work = ticket.work_s * (1 + SLOWDOWN_PER_LEVEL * gap)
    if kind != "any_team_member" and ticket.onsite and not scenario.realism.chained_travel:
        work += travel_km(state, ticket.site) / scenario.travel_speed_kmh * 3600  # type: ignore[arg-type]
    if ticket.wait_s > 0:
        return max(1, round(round(work) * WAIT_AT))
    return round(work)


def _variables(
    scenario: Scenario, partners: object, tickets: Sequence[SimTicket], kind: str
) -> np.ndarray:
    """Rows of (ticket, partner, start slot, duration in slots), one per possible start."""
    rows = []
    slot = scenario.min_service_s
    cover = partners.cover  # type: ignore[attr-defined]
    states = partners.states  # type: ignore[attr-defined]
    for i, ticket in enumerate(tickets):
        call_in = kind == "within_radius" and ticket.priority in URGENT
        for p, gap in _eligible(partners, ticket, kind):
            # Work shorter than a slot (the part before a wait on the client) keeps no
            # slot: two such tickets may start in one slot, so one slot would be too tight.
            duration = _work_s(scenario, states[p], ticket, kind, gap) // slot
            starts, ends = cover[p]
            if call_in:  # the engine calls a partner in up to an hour before their cover
                starts = [s - STRETCH_SHIFT_S for s in starts]
            for u in _start_slots(starts, ends, ticket.arrival_s, ticket.response_due_s, slot):
                rows.append((i, p, u, duration))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _constraints(var: np.ndarray, tickets: int) -> csr_matrix:
    """One row per ticket (started at most once), one per busy (partner, slot)."""
    n = len(var)
    by_ticket = csr_matrix((np.ones(n), (var[:, 0], np.arange(n))), shape=(tickets, n))
    duration = var[:, 3]
    column = np.repeat(np.arange(n), duration)
    offset = np.arange(duration.sum()) - np.repeat(np.cumsum(duration) - duration, duration)
    busy = np.repeat(var[:, 2], duration) + offset
    who = np.repeat(var[:, 1], duration)
    key = who * (busy.max(initial=0) + 1) + busy
    _, row = np.unique(key, return_inverse=True)
    rows = int(row.max(initial=-1)) + 1
    by_slot = csr_matrix((np.ones(len(column)), (row, column)), shape=(rows, n))
    return vstack([by_ticket, by_slot]).tocsr()


def offline_bound(
    scenario: Scenario,
    partners: object,
    tickets: Sequence[SimTicket],
    kinds: Sequence[str] = KINDS,
) -> dict[str, object]:
    """The bounds (see :func:`bound`); above ``bound.max_tickets`` the relaxed bounds
    (:func:`thirdway.dispatch.bound_relaxed.relaxed_bound`) when the scenario asks for them,
    else why none was computed."""
    if len(tickets) <= scenario.bound_max_tickets:
        return {kind: bound(scenario, partners, tickets, kind) for kind in kinds}
    if scenario.bound_relaxed:
        # The relaxed bound is built on this module's model, so it is imported here.
        from thirdway.dispatch.bound_relaxed import relaxed_bound

        return {kind: relaxed_bound(scenario, partners, tickets, kind) for kind in kinds}
    return {
        "skipped": f"{len(tickets)} tickets is more than bound.max_tickets "
        f"({scenario.bound_max_tickets}); the exact bound is for small scenarios "
        "(bound.relaxed gives a looser one that answers for large ones)"
    }


def bound(
    scenario: Scenario, partners: object, tickets: Sequence[SimTicket], kind: str
) -> dict[str, object]:
    """Upper bound on the response-SLA attainment (percent) of the policies ``kind`` holds
    for (every partner speaks the ticket's language in each):

    - ``any_team_member``: any member of the practice's team at full speed and no drive;
      every policy the simulator runs, but pre-emption (no bound here interrupts work);
    - ``qualified``: partners at or above the required level, with the drive: the policies
      that hold to the skill filter and never stretch it (skill filter + least-loaded,
      nearest qualified, priority FCFS), exact up to the slot rounding;
    - ``within_radius``: the engine's limits as Thirdway's policy applies them — the level,
      the radius of on-site work, cover — with their stretches (urgent work one level below
      at the slower pace, called in up to an hour before cover; any work half as far again
      as the radius, and any distance where nobody is within half as far again): Thirdway
      without pre-emption (``dispatch.preempt: false``). Not a bound of the baselines, which
      ignore the radius.
    """
    began = time.perf_counter()
    slot = scenario.min_service_s
    var = _variables(scenario, partners, tickets, kind)
    result: dict[str, object] = {"method": "time-indexed MILP", "slot_minutes": slot / 60}
    if not len(var):
        best, optimal = 0.0, True
    else:
        matrix = _constraints(var, len(tickets))
        cost = -np.ones(len(var))
        solved = milp(
            cost,
            constraints=LinearConstraint(matrix, -np.inf, 1),
            integrality=np.ones(len(var), dtype=np.uint8),  # what milp makes of any array
            bounds=Bounds(0, 1),
            options={"time_limit": scenario.bound_time_limit_s, "disp": False},
        )
        optimal = solved.status == 0
        dual = getattr(solved, "mip_dual_bound", None)
        if optimal and solved.fun is not None:
            best = -float(solved.fun)
        elif dual is not None and np.isfinite(dual):
            best = float(np.floor(-dual + 1e-6))
        else:  # no proof from the MILP in time: the LP relaxation is a looser bound
            # HiGHS takes the sparse matrix as it is; the stubs list only dense arrays.
            lp = linprog(cost, A_ub=matrix, b_ub=np.ones(matrix.shape[0]), bounds=(0, 1))  # type: ignore[call-overload]
            best, result["method"] = float(np.floor(-lp.fun + 1e-6)), "LP relaxation"
        result["variables"] = len(var)
    result.update(
        response_sla=round(100.0 * best / max(len(tickets), 1), 2),
        on_time=round(best),
        tickets=len(tickets),
        optimal=optimal,
        relaxed=result["method"] == "LP relaxation",
        solve_s=round(time.perf_counter() - began, 2),
    )
    return result
