"""Pre-emption: which partner a P1 interrupts when nobody can start it before it is due.

One rule for the simulator (``dispatch/policies.py``) and the desk
(``tickets/assignment/preemption.py``): a ticket of a pre-empting priority (P1) whose best
candidate cannot start it before its response is due (or has none, or only beyond their
limits) interrupts the running work of an interruptible priority (P3, P4) of the cheapest
partner by the engine's terms among those the skill, radius and language filters let
through. Availability and capacity do not hold (they start it at once, setting the other
work aside). The interrupted ticket keeps its start (its response) and the work done on it.
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
