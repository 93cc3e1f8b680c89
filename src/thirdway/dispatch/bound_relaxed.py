"""The relaxed offline bound: an upper bound on the model of :mod:`thirdway.dispatch.bound`
for weeks too large for its exact MILP (a storm week's ``qualified`` model has about 930,000
possible starts, and even the LP relaxation of the whole week gave no answer in 15 minutes).

Each possible start j (ticket i, partner p, slot u, d slots long) keeps p busy in slots
u .. u + d - 1, and no (partner, slot) holds the work of more than one start. Put a price
y >= 0 on every (partner, slot) and let c_j be the sum of the prices of j's busy slots. For
every schedule x of the model, integral or fractional,

    sum_j x_j  <=  sum_(p,s) y_ps  +  sum_i max(0, max over i's starts j of 1 - c_j)

because sum_j x_j c_j <= sum y_ps (no slot holds more than one start's work) and each ticket
starts at most once. This is the Lagrangian relaxation of the partners' slots: once slots
have prices, each ticket takes its best start alone, or none. It holds for any prices, so the
prices may come from anything quick; what makes the answer an upper bound is only that the
right-hand side is evaluated on the whole run with every possible start priced. The prices:

1. the run is cut into pieces (half days by default) where few tickets wait across a cut;
2. each piece's LP relaxation (its own starts, each busy only up to the piece's end) is
   solved with HiGHS's interior-point method without crossover, and the dual values of its
   slot rows become the prices of those slots (clipped at 0; no solver tolerance matters);
3. prices of 0 are tried too (they leave every ticket with a possible start on time), and
   subgradient steps on the whole run's right-hand side start from the better of the two;
   the best right-hand side met is the bound.

With each piece's own ticket duals, the right-hand side is at most the sum of the pieces' LP
values, the day-by-day bound this replaces, so it is never looser; it is never below the
whole run's LP optimum, which it nears as the prices improve. Imports no Django.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, linprog

try:  # HiGHS's binding as scipy ships it since 1.15: linprog drops the duals without crossover
    from scipy.optimize._highspy import _core as highspy  # type: ignore[import-not-found]
except ImportError:  # an older scipy: the interior point with crossover instead
    highspy = None
from scipy.sparse import csr_matrix, vstack

from thirdway.dispatch.bound import _variables
from thirdway.dispatch.scenario import Scenario, SimTicket

PIECE_HOURS = 12
POLISH_STEPS = 40
# HiGHS's interior point without crossover gives duals good enough for prices; "simplex"
# (dual simplex) and "ipm-crossover" are there to compare.
SOLVERS = ("ipm", "ipm-crossover", "simplex")
PIECE_TIME_LIMIT_S = 300.0
IPM_OPTIONS = {
    "output_flag": False,
    "solver": "ipm",
    "run_crossover": "off",
    "time_limit": PIECE_TIME_LIMIT_S,
}


@dataclass(frozen=True)
class Starts:
    """The model's possible starts in ticket order: partner row, first busy slot and the
    slot after the last (slots counted from the earliest start), and each start's group
    (one group per ticket that has any start)."""

    ticket: np.ndarray
    partner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    group: np.ndarray
    first: np.ndarray  # where each group begins
    partners: int
    width: int
    base: int  # the absolute slot of relative slot 0

    @classmethod
    def of(cls, var: np.ndarray, partners: int) -> Starts:
        base = int(var[:, 2].min())
        start = var[:, 2] - base
        ticket = var[:, 0]
        first = np.flatnonzero(np.r_[True, ticket[1:] != ticket[:-1]])
        group = np.cumsum(np.r_[0, (ticket[1:] != ticket[:-1]).astype(np.int64)])
        end = start + var[:, 3]
        return cls(ticket, var[:, 1], start, end, group, first, partners, int(end.max()), base)


def lagrangian(starts: Starts, prices: np.ndarray) -> tuple[float, np.ndarray]:
    """The right-hand side for ``prices`` (partners x slots, all >= 0) and each start's
    margin 1 - c_j."""
    cum = np.zeros((starts.partners, starts.width + 1))
    np.cumsum(prices, axis=1, out=cum[:, 1:])
    margin = 1.0 - (cum[starts.partner, starts.end] - cum[starts.partner, starts.start])
    best = np.maximum.reduceat(margin, starts.first)
    return float(prices.sum() + np.maximum(best, 0.0).sum()), margin


def _chosen(starts: Starts, margin: np.ndarray) -> np.ndarray:
    """Each ticket's best start when its margin is positive (the first of equals)."""
    best = np.maximum.reduceat(margin, starts.first)[starts.group]
    hits = np.flatnonzero((margin >= best) & (best > 0))
    _, keep = np.unique(starts.group[hits], return_index=True)
    return hits[keep]


def _usage(starts: Starts, chosen: np.ndarray) -> np.ndarray:
    """How many of the chosen starts keep each (partner, slot) busy."""
    step = np.zeros((starts.partners, starts.width + 1))
    np.add.at(step, (starts.partner[chosen], starts.start[chosen]), 1.0)
    np.add.at(step, (starts.partner[chosen], starts.end[chosen]), -1.0)
    return np.cumsum(step, axis=1)[:, : starts.width]


def schedule_on_time(starts: Starts, margin: np.ndarray) -> int:
    """Tickets on time in a schedule the model admits, built greedily from the priced
    starts (each ticket's cheapest first): a lower end for the exact bound of the model."""
    busy = np.zeros((starts.partners, starts.width), dtype=bool)
    order = np.lexsort((-margin, starts.group))
    placed = 0
    bounds = np.r_[starts.first, len(margin)]
    for g in np.argsort(-np.maximum.reduceat(margin, starts.first), kind="stable"):
        for j in order[bounds[g] : bounds[g + 1]]:
            p, s, e = starts.partner[j], starts.start[j], starts.end[j]
            if not busy[p, s:e].any():
                busy[p, s:e] = True
                placed += 1
                break
    return placed


def polish(
    starts: Starts, prices: np.ndarray, steps: int, target: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Projected subgradient steps from ``prices`` towards ``target`` (a value the bound
    cannot go below); the best right-hand side, its prices and margins."""
    value, margin = lagrangian(starts, prices)
    best = (value, prices, margin)
    rate, stalled = 1.0, 0
    for _ in range(steps):
        gradient = 1.0 - _usage(starts, _chosen(starts, margin))
        gradient[(prices <= 0) & (gradient > 0)] = 0.0  # prices stay at 0 or above
        norm = float((gradient * gradient).sum())
        if norm == 0 or value - target <= 1e-9:
            break
        prices = np.maximum(prices - rate * (value - target) / norm * gradient, 0.0)
        value, margin = lagrangian(starts, prices)
        if value < best[0] - 1e-9:
            best, stalled = (value, prices, margin), 0
        else:
            stalled += 1
            if stalled >= 3:
                rate, stalled = rate / 2, 0
    return best


def _solve(matrix: csr_matrix, solver: str) -> np.ndarray | None:
    """Dual values (>= 0) of the rows of max sum(x), matrix x <= 1, 0 <= x <= 1; None when
    the solver gave none."""
    if solver == "ipm" and highspy is not None:
        return _solve_ipm(matrix)
    n = matrix.shape[1]
    method = "highs-ds" if solver == "simplex" else "highs-ipm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        lp = linprog(  # type: ignore[call-overload]
            -np.ones(n),
            A_ub=matrix,
            b_ub=np.ones(matrix.shape[0]),
            bounds=(0, 1),
            method=method,
            options={"time_limit": PIECE_TIME_LIMIT_S},
        )
    marginals = getattr(getattr(lp, "ineqlin", None), "marginals", None)
    if marginals is None:
        return None
    duals: np.ndarray = np.maximum(-np.asarray(marginals, dtype=float), 0.0)
    return duals


def _solve_ipm(matrix: csr_matrix) -> np.ndarray | None:
    """HiGHS's interior point without crossover. Its duals are taken whatever the model's
    status (without crossover HiGHS may call an answer "unknown" rather than optimal):
    any prices give a bound, and a poor answer only a looser one."""
    rows, n = matrix.shape
    columns = matrix.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, rows
    lp.col_cost_ = -np.ones(n)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(rows, -highspy.kHighsInf), np.ones(rows)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, rows
    lp.a_matrix_.start_ = columns.indptr
    lp.a_matrix_.index_ = columns.indices
    lp.a_matrix_.value_ = columns.data
    highs = highspy._Highs()
    for option, setting in IPM_OPTIONS.items():
        highs.setOptionValue(option, setting)
    highs.passModel(lp)
    highs.run()
    solution = highs.getSolution()
    if not solution.dual_valid:
        return None
    duals: np.ndarray = np.maximum(-np.asarray(solution.row_dual, dtype=float), 0.0)
    return duals


def _piece(starts: Starts, lo: int, hi: int) -> tuple[csr_matrix, np.ndarray, int] | None:
    """The LP of the starts in slots lo .. hi - 1, each busy up to hi at most: its matrix
    (one row per ticket, then one per busy (partner, slot)), the slot rows' keys
    (partner * width + slot) and the number of ticket rows."""
    cols = np.flatnonzero((starts.start >= lo) & (starts.start < hi))
    if not len(cols):
        return None
    first = starts.start[cols]
    length = np.minimum(starts.end[cols], hi) - first
    column = np.repeat(np.arange(len(cols)), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    key = np.repeat(starts.partner[cols] * starts.width + first, length) + offset
    keys, row = np.unique(key, return_inverse=True)
    _, ticket_row = np.unique(starts.ticket[cols], return_inverse=True)
    m = len(cols)
    tickets = int(ticket_row.max()) + 1
    by_ticket = csr_matrix((np.ones(m), (ticket_row, np.arange(m))), shape=(tickets, m))
    by_slot = csr_matrix((np.ones(len(column)), (row, column)), shape=(len(keys), m))
    return vstack([by_ticket, by_slot]).tocsr(), keys, tickets


def _cuts(scenario: Scenario, tickets: Sequence[SimTicket], hours: float) -> list[int]:
    """Absolute slots cutting the run every ``hours``, at the offset (whole hours) where
    the fewest tickets wait across the cuts."""
    slot, step = scenario.min_service_s, round(hours * 3600)
    day0 = scenario.start_s - scenario.start_s % 86_400
    arrival = np.array([t.arrival_s for t in tickets])[:, None]
    due = np.array([t.response_due_s for t in tickets])[:, None]

    def at(offset: int) -> np.ndarray:
        return np.arange(day0 + offset, scenario.end_s, step)

    offset = min(
        range(0, step, 3600), key=lambda o: int(((arrival < at(o)) & (due >= at(o))).sum())
    )
    return [int(c) // slot for c in at(offset) if scenario.start_s < c]


def slot_prices(
    starts: Starts, cuts: Sequence[int], solver: str
) -> tuple[np.ndarray, dict[str, float]]:
    """Prices from each piece's LP (see the module's docstring); and how many pieces there
    were, how many gave no answer (their slots keep price 0, still a bound) and the longest
    solve."""
    prices = np.zeros((starts.partners, starts.width))
    edges = [0, *sorted({c - starts.base for c in cuts if 0 < c - starts.base < starts.width})]
    edges.append(starts.width)
    failed, slowest = 0, 0.0
    for lo, hi in itertools.pairwise(edges):
        piece = _piece(starts, lo, hi)
        if piece is None:
            continue
        matrix, keys, tickets = piece
        began = time.perf_counter()
        duals = _solve(matrix, solver)
        slowest = max(slowest, time.perf_counter() - began)
        if duals is None:
            failed += 1
            continue
        prices[keys // starts.width, keys % starts.width] = duals[tickets:]
    return prices, {
        "pieces": len(edges) - 1,
        "pieces_unsolved": failed,
        "slowest_piece_s": round(slowest, 2),
    }


def _best_prices(
    starts: Starts, report: dict[str, object], prices: np.ndarray, steps: int
) -> tuple[float, int]:
    """The bound from the pieces' ``prices`` or from prices of 0, whichever is lower, after
    the subgradient steps (what it found goes into ``report``); and the most tickets on
    time in a greedy schedule of the model."""
    unpriced, margin = lagrangian(starts, np.zeros_like(prices))
    priced, priced_margin = lagrangian(starts, prices)
    schedule = max(schedule_on_time(starts, margin), schedule_on_time(starts, priced_margin))
    if priced >= unpriced:
        prices = np.zeros_like(prices)
    value, prices, margin = polish(starts, prices, steps, float(schedule))
    report.update(with_a_start=round(unpriced), piece_prices_value=round(priced, 3))
    return value, max(schedule, schedule_on_time(starts, margin))


def relaxed_bound(
    scenario: Scenario,
    partners: object,
    tickets: Sequence[SimTicket],
    kind: str,
    piece_hours: float = PIECE_HOURS,
    solver: str = "ipm",
    polish_steps: int = POLISH_STEPS,
) -> dict[str, object]:
    """An upper bound of ``kind`` (see :func:`thirdway.dispatch.bound.bound`) that answers for
    a week of thousands of tickets: the Lagrangian bound of the module's docstring."""
    began = time.perf_counter()
    var = _variables(scenario, partners, tickets, kind)
    result: dict[str, object] = {
        "method": "Lagrangian bound, prices from piece LPs",
        "slot_minutes": scenario.min_service_s / 60,
        "piece_hours": piece_hours,
        "solver": solver,
        "variables": len(var),
    }
    value, schedule = 0.0, 0
    if len(var):
        starts = Starts.of(var, len(partners))  # type: ignore[arg-type]
        prices, counts = slot_prices(starts, _cuts(scenario, tickets, piece_hours), solver)
        result.update(counts, prices_s=round(time.perf_counter() - began, 2))
        value, schedule = _best_prices(starts, result, prices, polish_steps)
    on_time = min(len(tickets), int(np.floor(value + 1e-6)))
    result.update(
        value=round(value, 3),
        response_sla=round(100.0 * on_time / max(len(tickets), 1), 2),
        on_time=on_time,
        schedule_on_time=schedule,
        tickets=len(tickets),
        optimal=False,
        relaxed=True,
        solve_s=round(time.perf_counter() - began, 2),
    )
    return result
