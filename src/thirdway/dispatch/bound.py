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

from thirdway.dispatch.scenario import Scenario, SimTicket, travel_km


def _eligible(partners: object, ticket: SimTicket, qualified: bool) -> list[int]:
    states = partners.states  # type: ignore[attr-defined]
    level = ticket.level if qualified else 1
    return [row for row, state in enumerate(states) if state.level_in(ticket.practice) >= level]


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


def _variables(
    scenario: Scenario, partners: object, tickets: Sequence[SimTicket], qualified: bool
) -> np.ndarray:
    """Rows of (ticket, partner, start slot, duration in slots), one per possible start."""
    rows = []
    slot = scenario.min_service_s
    cover = partners.cover  # type: ignore[attr-defined]
    states = partners.states  # type: ignore[attr-defined]
    for i, ticket in enumerate(tickets):
        for p in _eligible(partners, ticket, qualified):
            work = ticket.work_s
            if qualified and ticket.onsite:  # exactly what the simulator charges
                work += round(travel_km(states[p], ticket.site) / scenario.travel_speed_kmh * 3600)
            duration = max(1, work // slot)
            starts, ends = cover[p]
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
    key = np.repeat(var[:, 1], duration) * (busy.max() + 1) + busy
    _, row = np.unique(key, return_inverse=True)
    by_slot = csr_matrix((np.ones(len(column)), (row, column)), shape=(row.max() + 1, n))
    return vstack([by_ticket, by_slot]).tocsr()


def offline_bound(
    scenario: Scenario, partners: object, tickets: Sequence[SimTicket]
) -> dict[str, object]:
    """Both bounds (see :func:`bound`), or why they were not computed."""
    if len(tickets) > scenario.bound_max_tickets:
        return {
            "skipped": f"{len(tickets)} tickets is more than bound.max_tickets "
            f"({scenario.bound_max_tickets}); the exact bound is for small scenarios"
        }
    return {
        "any_team_member": bound(scenario, partners, tickets, qualified=False),
        "qualified": bound(scenario, partners, tickets, qualified=True),
    }


def bound(
    scenario: Scenario, partners: object, tickets: Sequence[SimTicket], qualified: bool
) -> dict[str, object]:
    """Upper bound on the response-SLA attainment (percent).

    With ``qualified`` only partners at or above the required level may start a ticket,
    with the drive included in its duration: the bound of every policy that respects the
    skill filter (Thirdway, skill filter + least-loaded, nearest qualified, priority FCFS),
    exact up to the slot rounding. Without it, any member of the practice's team at full
    speed and no drive: the bound of every policy the simulator runs.
    """
    began = time.perf_counter()
    slot = scenario.min_service_s
    var = _variables(scenario, partners, tickets, qualified)
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
        solve_s=round(time.perf_counter() - began, 2),
    )
    return result
