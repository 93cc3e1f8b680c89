"""Pre-emption: which partner a P1 interrupts when nobody can start it before it is due.

One rule for the simulator (``dispatch/policies.py``) and the desk
(``tickets/assignment/preemption.py``): a ticket of a pre-empting priority (P1) whose best
candidate cannot start it before its response is due (or has none, or only beyond their
limits), or whose partner holds it without being able to start it before then
(``held_is_late``), interrupts the running work of an interruptible priority (P3, P4) of
the cheapest other partner by the engine's terms among those the skill, radius and language
filters let through. Availability and capacity do not hold (they start it at once, setting
the other work aside). The interrupted ticket keeps its start (its response) and the work
done on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from thirdway.dispatch.engine.cover import PartnerIndex
from thirdway.dispatch.engine.decision import Candidate
from thirdway.dispatch.engine.evaluation import evaluate
from thirdway.dispatch.engine.inputs import TicketNeed, Weights, epoch

# Tickets of these priorities that nobody can start before their response is due interrupt
# a partner's running ticket of the next ones.
PREEMPTING = ("P1",)
INTERRUPTIBLE = ("P3", "P4")
# The filters that still hold for a partner who sets their work aside to start at once.
HOLDING_FILTERS = ("skill", "radius", "language")
PREEMPTED = "interrupted their"


def is_late(ticket: TicketNeed, chosen: Candidate | None) -> bool:
    """Whether the ticket may pre-empt: of a pre-empting priority, and nobody within their
    limits can start it before its response is due."""
    if ticket.priority not in PREEMPTING:
        return False
    return (
        chosen is None
        or bool(chosen.stretched_limits)
        or epoch(chosen.start_at) > epoch(ticket.response_due_at)
    )


def holder_start_s(
    ticket: TicketNeed, index: PartnerIndex, weights: Weights, now_s: int, row: int
) -> int | None:
    """When the partner at ``row``, who holds ``ticket`` (assigned, not started), can start it
    by the engine's cover and their work in hand (seconds since the epoch); None when no
    shift or on-call turn of theirs lets them start it before its response is due (off shift,
    away). Capacity does not count: the ticket is theirs already."""
    evaluation = evaluate(ticket, index, weights, now_s, np.array([row]), stretch=False)
    if evaluation.cover.unavailable[0]:
        return None
    return int(evaluation.cover.start[0]) + index.origin_s


def held_is_late(ticket: TicketNeed, start_s: float | None, now_s: float, within_s: float) -> bool:
    """Whether a ticket someone holds but has not started may pre-empt: of a pre-empting
    priority, its response falls due before ``now_s + within_s`` (the next look), and its
    partner cannot start it before then: ``start_s`` (when they can, None: not in time) is
    after the response is due, or after now once it is overdue.

    The simulator knows who is at work on something else now (their start is unknown, None)
    and who is free (now); the desk asks the engine (``holder_start_s``)."""
    if ticket.priority not in PREEMPTING:
        return False
    due = epoch(ticket.response_due_at)
    if due > now_s + within_s:
        return False
    return start_s is None or start_s > max(due, now_s)


def interrupting_row(
    ticket: TicketNeed,
    index: PartnerIndex,
    weights: Weights,
    now_s: int,
    rows: Sequence[int],
    may: Callable[[int], bool] | None = None,
    *,
    on_duty_only: bool = False,
) -> int | None:
    """The row (of ``rows``: partners at work on an interruptible ticket now) whose work
    ``ticket`` interrupts: the cheapest the holding filters let through and ``may`` allows;
    None when there is none.

    ``on_duty_only`` also asks that they be on shift or on call now and not away: the
    simulator knows who is at work, the desk only that a ticket was left in progress."""
    if not rows:
        return None
    evaluation = evaluate(ticket, index, weights, now_s, np.array(rows))
    blocked = np.zeros(len(rows), dtype=bool)
    for name in HOLDING_FILTERS:
        if name in evaluation.failures:
            blocked |= evaluation.failures[name]
    if on_duty_only:
        cover, now = evaluation.cover, evaluation.now
        on_duty = (cover.shift_start <= now) | (cover.call_start <= now)
        blocked |= ~on_duty | cover.absent_now
    open_rows = [
        (float(evaluation.total[k]), row)
        for k, row in enumerate(rows)
        if not blocked[k] and (may is None or may(row))
    ]
    if not open_rows:
        return None
    return min(open_rows)[1]


def why_interrupted(priority: str) -> str:
    """The explanation of a pre-empting assignment, e.g. "interrupted their P3 to take it at
    once"."""
    return f"{PREEMPTED} {priority} to take it at once"
