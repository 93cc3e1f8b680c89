"""Planning on top of the dispatch engine.

- :func:`reoptimise` assigns a whole queue of unassigned or at-risk tickets at once with
  scipy's ``linear_sum_assignment``, so one urgent ticket does not grab the only partner
  another ticket could have had. :func:`greedy_assign` is the one-at-a-time baseline.
- :func:`place_visit` fits an on-site visit into a partner's day between fixed visits.

Like the engine, this module imports nothing from Django, and of thirdway only the engine
and :mod:`thirdway.distance`.  scipy (some 50 MiB once loaded) is imported by the two solvers
alone, so a process that never re-plans a queue (a web worker) never holds it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from thirdway.dispatch.engine import (
    DEFAULT_TRAVEL_SPEED_KMH,
    PRIORITIES,
    Candidate,
    LatLon,
    PartnerId,
    PartnerIndex,
    PartnerState,
    TicketId,
    TicketNeed,
    Weights,
    as_index,
    candidates_at,
    check_aware,
    epoch,
    evaluate,
    id_key,
    nobody_reason,
    rejected_counts,
)
from thirdway.distance import haversine_km

# Leaving a ticket unassigned costs more for urgent work, so scarce partners go to P1 first.
UNASSIGNED_FACTOR = {"P1": 8, "P2": 4, "P3": 2, "P4": 1}
DEFAULT_MAX_SLOTS = 4
DEFAULT_SHORTLIST = 25
# Up to this many tickets the dense linear_sum_assignment is quick; beyond it, contention
# for the same partners makes it slow and the sparse matcher takes over (same optimum).
DENSE_LIMIT = 300


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Assignment:
    """One ticket of a plan: the candidate it goes to, or None and why not."""

    ticket_id: TicketId
    candidate: Candidate | None
    reason: str

    @property
    def partner_id(self) -> PartnerId | None:
        return None if self.candidate is None else self.candidate.partner_id


@dataclass(frozen=True, slots=True)
class Plan:
    """Outcome of :func:`reoptimise` or :func:`greedy_assign`, in the input ticket order.

    ``objective`` is what the solver minimised: weighted costs, plus large steps for the
    non-preferred tier and escalation bypasses, plus a priority-scaled penalty for each
    ticket left unassigned. ``total_cost`` is just the weighted costs of assigned tickets.
    """

    assignments: tuple[Assignment, ...]
    objective: float
    total_cost: float
    method: str

    @property
    def assigned(self) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.candidate is not None)

    @property
    def unassigned(self) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.candidate is None)

    def tickets_per_partner(self) -> dict[PartnerId, int]:
        counts: dict[PartnerId, int] = {}
        for assignment in self.assignments:
            if assignment.candidate is not None:
                pid = assignment.candidate.partner_id
                counts[pid] = counts.get(pid, 0) + 1
        return counts


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True, slots=True)
class _Problem:
    """Costs of every (ticket, partner) pair, ready for either solver.

    ``keys[i, j]`` is the cost of giving ticket i to partner j as that partner's first
    new ticket (inf when infeasible); each further ticket for j adds ``step[j]``, the
    growth of j's load term. Tier and escalation are folded in as steps of ``scale`` so
    the joint optimum keeps the single-ticket preference order.
    """

    tickets: tuple[TicketNeed, ...]
    index: PartnerIndex
    weights: Weights
    now_s: int
    keys: np.ndarray
    free: np.ndarray
    step: np.ndarray
    penalty: np.ndarray
    nobody: tuple[str | None, ...]

    @classmethod
    def build(
        cls, tickets: Sequence[TicketNeed], index: PartnerIndex, weights: Weights, now: datetime
    ) -> _Problem:
        now_s = epoch(now)
        n, m = len(tickets), len(index)
        totals = np.full((n, m), np.inf)
        levels = np.zeros((n, m), dtype=np.int8)
        nobody: list[str | None] = []
        for i, ticket in enumerate(tickets):
            ev = evaluate(ticket, index, weights, now_s)
            totals[i, ev.feasible] = ev.total[ev.feasible]
            levels[i] = ev.tier + 2 * ev.bypass
            if ev.feasible.any():
                nobody.append(None)
            else:
                nobody.append(nobody_reason(ticket, rejected_counts(ev), m))
        finite = totals[np.isfinite(totals)]
        # Bigger than any total plus the most extra load, so a level step always dominates.
        scale = 2.0 * (float(finite.max(initial=0.0)) + weights.load) + 1.0
        capacity = index.capacity
        factors = np.array([UNASSIGNED_FACTOR[t.priority] for t in tickets], dtype=float)
        return cls(
            tickets=tuple(tickets),
            index=index,
            weights=weights,
            now_s=now_s,
            keys=totals + scale * levels,
            free=np.maximum(capacity - index.load, 0),
            step=weights.load / np.maximum(capacity, 1),
            # Above every feasible key (levels stop at 3), so assigning always beats leaving.
            penalty=4.0 * scale * factors,
            nobody=tuple(nobody),
        )

    def urgency_order(self) -> list[int]:
        """Ticket positions, most urgent first: priority, response due time, id."""
        return sorted(
            range(len(self.tickets)),
            key=lambda i: (
                PRIORITIES.index(self.tickets[i].priority),
                epoch(self.tickets[i].response_due_at),
                id_key(self.tickets[i].id),
            ),
        )

    def objective(self, pairs: dict[int, int]) -> float:
        """Solver objective of an assignment {ticket position: partner row}."""
        counts = np.bincount(list(pairs.values()), minlength=len(self.index))
        extra_load = float((self.step * counts * (counts - 1) / 2).sum())
        assigned = sum(float(self.keys[i, j]) for i, j in pairs.items())
        left = sum(float(self.penalty[i]) for i in range(len(self.tickets)) if i not in pairs)
        return assigned + extra_load + left


def _greedy(problem: _Problem) -> dict[int, int]:
    """Most urgent ticket first, each to its cheapest partner with capacity left."""
    used = np.zeros(len(problem.index), dtype=np.int64)
    pairs: dict[int, int] = {}
    for i in problem.urgency_order():
        row = np.where(used < problem.free, problem.keys[i] + problem.step * used, np.inf)
        j = int(np.argmin(row))  # first minimum: the lowest partner id wins a tie
        if np.isfinite(row[j]):
            pairs[i] = j
            used[j] += 1
    return pairs


def _solve(
    problem: _Problem, baseline: dict[int, int], max_slots: int, shortlist: int
) -> dict[int, int]:
    """Min-cost assignment with each partner's column repeated once per usable slot.

    To keep the matrix small only partners on some ticket's shortlist (its ``shortlist``
    cheapest) get columns, and each gets at most ``max_slots`` slots. The baseline
    (greedy) assignment always stays representable, so the result is never worse than it.
    """
    keys = problem.keys
    n, m = keys.shape
    feasible = np.isfinite(keys)
    keep = np.zeros(m, dtype=bool)
    if shortlist >= m:
        keep |= feasible.any(axis=0)
    else:
        best = np.argpartition(keys, shortlist - 1, axis=1)[:, :shortlist]
        keep[best[np.take_along_axis(feasible, best, axis=1)]] = True
    baseline_use = np.bincount(list(baseline.values()), minlength=m)
    keep |= baseline_use > 0
    cols = np.flatnonzero(keep)
    slots = np.minimum(np.minimum(problem.free[cols], max_slots), feasible[:, cols].sum(axis=0))
    slots = np.maximum(slots, baseline_use[cols])
    # A column per slot; the k-th slot of a partner costs k more load steps. Then one
    # "unassigned" column per ticket at that ticket's penalty, so every row has a way out.
    owner = np.repeat(cols, slots)
    first = np.cumsum(slots) - slots  # column of each kept partner's first slot
    if n <= DENSE_LIMIT:
        nth = np.arange(len(owner)) - np.repeat(first, slots)
        rows, chosen = _solve_dense(keys[:, owner] + problem.step[owner] * nth, problem.penalty)
    else:
        rows, chosen = _solve_sparse(
            keys[:, cols], slots, first, problem.step[cols], problem.penalty
        )
    return {int(i): int(owner[c]) for i, c in zip(rows, chosen, strict=True) if c < len(owner)}


def _solve_dense(cost: np.ndarray, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``linear_sum_assignment`` on [slots | own unassigned column]; inf forbids a pair."""
    from scipy.optimize import linear_sum_assignment

    n = len(penalty)
    dummy = np.full((n, n), np.inf)
    np.fill_diagonal(dummy, penalty)
    return linear_sum_assignment(np.hstack([cost, dummy]))


def _solve_sparse(
    keys: np.ndarray,
    slots: np.ndarray,
    first: np.ndarray,
    step: np.ndarray,
    penalty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The problem of :func:`_solve_dense`, for big queues, with feasible pairs only.

    With many tickets wanting the same few cheap partners the dense solver's augmenting
    paths get long (1,000 tickets x 3,500 slots took seconds); the sparse matcher finds the
    same optimum much faster. Edges are built per partner and then copied per slot, so no
    dense slot matrix is ever made. Every weight gets +1 because a zero would read as "no
    edge"; each ticket is matched exactly once, so the shift leaves the optimum alone.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    n, width = len(penalty), int(slots.sum())
    ticket, partner = np.nonzero(np.isfinite(keys))
    copies = slots[partner]
    base = np.repeat(keys[ticket, partner], copies)
    nth = np.arange(len(base)) - np.repeat(np.cumsum(copies) - copies, copies)
    partner = np.repeat(partner, copies)
    diagonal = np.arange(n)
    graph = csr_matrix(
        (
            np.concatenate([base + step[partner] * nth, penalty]) + 1.0,
            (
                np.concatenate([np.repeat(ticket, copies), diagonal]),
                np.concatenate([first[partner] + nth, width + diagonal]),
            ),
        ),
        shape=(n, width + n),
    )
    return min_weight_full_bipartite_matching(graph)


def _plan(problem: _Problem, pairs: dict[int, int], method: str) -> Plan:
    """Turn {ticket position: partner row} into a plan with explained candidates."""
    seen = np.zeros(len(problem.index), dtype=np.int64)
    chosen: dict[int, Candidate] = {}
    for i in problem.urgency_order():
        if i not in pairs:
            continue
        row = pairs[i]
        ticket = problem.tickets[i]
        # Re-evaluating one row is cheaper than keeping every ticket's whole evaluation.
        ev = evaluate(ticket, problem.index, problem.weights, problem.now_s, np.array([row]))
        # Tickets earlier in the urgency order count as already open for this partner.
        chosen[i] = candidates_at(
            ev, problem.index, ticket, np.array([0]), [int(seen[row])], problem.weights.load
        )[0]
        seen[row] += 1
    assignments = []
    for i, ticket in enumerate(problem.tickets):
        if i in chosen:
            assignments.append(Assignment(ticket.id, chosen[i], chosen[i].explanation))
        else:
            reason = problem.nobody[i] or (
                "no partner can take this ticket: every feasible partner's capacity "
                "went to more urgent or better-matched tickets in this plan"
            )
            assignments.append(Assignment(ticket.id, None, reason))
    return Plan(
        assignments=tuple(assignments),
        objective=problem.objective(pairs),
        total_cost=sum(c.total for c in chosen.values()),
        method=method,
    )


def _problem(
    tickets: Sequence[TicketNeed],
    partners: PartnerIndex | Iterable[PartnerState],
    weights: Weights | None,
    now: datetime | None,
) -> _Problem:
    now = datetime.now(UTC) if now is None else now
    check_aware(now, "now")
    tickets = tuple(tickets)
    index = as_index(partners, tickets, now)
    return _Problem.build(tickets, index, Weights() if weights is None else weights, now)


def greedy_assign(
    tickets: Sequence[TicketNeed],
    partners: PartnerIndex | Iterable[PartnerState],
    weights: Weights | None = None,
    now: datetime | None = None,
) -> Plan:
    """Baseline plan: most urgent ticket first, each to its best partner with capacity."""
    problem = _problem(tickets, partners, weights, now)
    return _plan(problem, _greedy(problem), "greedy")


def reoptimise(
    tickets: Sequence[TicketNeed],
    partners: PartnerIndex | Iterable[PartnerState],
    weights: Weights | None = None,
    now: datetime | None = None,
    *,
    max_slots_per_partner: int = DEFAULT_MAX_SLOTS,
    shortlist: int = DEFAULT_SHORTLIST,
) -> Plan:
    """Jointly assign a queue of tickets at minimum total cost, respecting free capacity.

    Pass loads that exclude the queued tickets themselves (an at-risk ticket's current
    holder should not be charged for it twice). Tickets nobody can take, or that lose the
    competition for scarce capacity, come back unassigned with a reason that starts with
    "no partner can take this ticket:", for the desk's unassignable queue.
    """
    if max_slots_per_partner < 1 or shortlist < 1:
        raise ValueError("max_slots_per_partner and shortlist must be at least 1")
    problem = _problem(tickets, partners, weights, now)
    if not problem.tickets:
        return Plan((), 0.0, 0.0, "assignment")
    baseline = _greedy(problem)
    pairs = _solve(problem, baseline, max_slots_per_partner, shortlist)
    best, greedy_best = problem.objective(pairs), problem.objective(baseline)
    # The solver's optimum already includes the greedy plan; this only guards float noise.
    if best > greedy_best + 1e-9 * max(1.0, abs(greedy_best)):
        return _plan(problem, baseline, "greedy")
    return _plan(problem, pairs, "assignment")


# --------------------------------------------------------------------------- on-site visits


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """A visit already fixed in a partner's day."""

    location: LatLon
    start: datetime
    duration: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class VisitSlot:
    """Where a new visit fits. ``position`` is its index among the day's visits once
    inserted; ``travel_after`` is to the next visit, or home after the last one."""

    start: datetime
    end: datetime
    position: int
    travel_before: timedelta
    travel_after: timedelta


def travel_time(origin: LatLon, destination: LatLon, speed_kmh: float) -> timedelta:
    """Driving time at ``speed_kmh``, rounded up to the minute to keep plans on the safe side."""
    hours = float(haversine_km(*origin, *destination)) / speed_kmh
    return timedelta(minutes=math.ceil(round(hours * 60, 6)))


def place_visit(
    booked: Iterable[BookedVisit],
    *,
    home: LatLon,
    location: LatLon,
    duration: timedelta,
    window: tuple[datetime, datetime],
    day: tuple[datetime, datetime] | None = None,
    speed_kmh: float = DEFAULT_TRAVEL_SPEED_KMH,
) -> VisitSlot | None:
    """Earliest start for a new visit between the partner's fixed visits, or None.

    The visit must start and finish inside ``window``. Booked visits do not move: the new
    one goes into the first gap where the partner can drive in from the previous stop (from
    home, leaving no earlier than ``day[0]``, for the first gap) and still reach the next
    stop in time (home by ``day[1]`` after the last). Gaps are tried in time order and a
    later gap can only start later, so the first fit is the earliest.
    """
    window_start, window_end = window
    stops = sorted(booked, key=lambda visit: visit.start)
    day_start, day_end = day if day is not None else (None, None)
    deadline: datetime | None
    for position in range(len(stops) + 1):
        if position == 0:
            previous, free_from = home, day_start
        else:
            previous, free_from = stops[position - 1].location, stops[position - 1].end
        travel_in = travel_time(previous, location, speed_kmh)
        start = window_start if free_from is None else max(window_start, free_from + travel_in)
        end = start + duration
        if end > window_end:
            continue
        if position < len(stops):
            following, deadline = stops[position].location, stops[position].start
        else:
            following, deadline = home, day_end
        travel_out = travel_time(location, following, speed_kmh)
        if deadline is not None and end + travel_out > deadline:
            continue
        return VisitSlot(start, end, position, travel_in, travel_out)
    return None
