"""Urgency first: which ticket a partner who comes free takes next.

A partner comes free when they finish a ticket, start a shift or come back. The next ticket
they take is chosen over the whole queue they qualify for — the desk's unassigned tickets and
what they may take from another partner's queue — when it is more urgent than the first of
their own queue; overdue and high priority first. The simulator's ``thirdway`` policy and the
desk's *Take my next ticket* both decide here.

Pure: the caller describes the tickets as :class:`Open` and says with ``may_take`` whether the
partner passes the skill, radius and language filters for one (capacity does not hold them
back: they start the ticket at once).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from thirdway.dispatch.engine.inputs import PRIORITIES

# A partner coming free looks at this many of the most urgent tickets they might take.
LOOKS = 25
# The filters that still hold when a free partner takes a ticket to start it at once.
FILTERS = ("skill", "radius", "language")
# Tickets of these priorities are taken from another partner's queue when more urgent; others
# only once their response is overdue or their partner would start them late.
ANY = ("P1",)
TAKEN = "Taken as the most urgent next"
RANK = {p: i for i, p in enumerate(PRIORITIES)}

Order = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Open:
    """A ticket not started yet: ``key`` is the caller's handle for it."""

    key: int
    id: int
    priority: str
    response_due_s: int
    needs_visit: bool = False

    def order(self) -> Order:
        """The working order: priority, response due time, then id."""
        return (RANK[self.priority], self.response_due_s, self.id)


@dataclass(frozen=True, slots=True)
class Held:
    """Another partner's queue of tickets not started.

    ``busy``: they are at work on a ticket now. ``late``: the keys of the tickets they would
    start after the response due time, working through their queue at the expected pace — a
    callable, asked only when needed (the walk can be dear)."""

    queue: Sequence[Open]
    busy: bool
    late: Callable[[], Collection[int]]


@dataclass(frozen=True, slots=True)
class Pick:
    ticket: Open
    held: bool  # taken from another partner's queue
    reason: str


def takeable(held: Held, own: Order | None, now_s: int) -> list[Open]:
    """Tickets of another's queue a partner coming free may take from them, in this order
    (a ticket may come twice):

    - a P1, or a ticket whose response is already overdue;
    - one the holder would start after its due time (at risk), when the holder holds
      something more urgent than the first of the partner's own queue (``own``);
    - a partner with nothing queued, when the holder is at work on a ticket: any of their
      queued tickets that needs no visit, as one shared queue would give it to whoever is
      free first (a visit stays with the partner it was planned for, for the drive).
    """
    queue = held.queue
    taken = [t for t in queue if t.priority in ANY or t.response_due_s <= now_s]

    def before_due(t: Open) -> bool:
        return t.priority not in ANY and t.response_due_s > now_s

    if own is None or min(t.order() for t in queue) < own:
        late = held.late()
        by_key = {t.key: t for t in queue}
        taken.extend(by_key[k] for k in late if k in by_key and before_due(by_key[k]))
    if own is None and held.busy:
        taken.extend(t for t in queue if before_due(t) and not t.needs_visit)
    return taken


def candidates(
    own: Order | None, waiting: Sequence[Open], others: Sequence[Held], now_s: int
) -> list[tuple[Open, bool]]:
    """Every ticket more urgent than ``own`` the partner might take, most urgent first, each
    with whether it is held by another partner."""
    pool = [(t, False) for t in waiting]
    for held in others:
        if held.queue:
            pool.extend((t, True) for t in takeable(held, own, now_s))
    return sorted(
        (p for p in pool if own is None or p[0].order() < own), key=lambda p: p[0].order()
    )


def why(ticket: Open, held: bool, now_s: int) -> str:
    """One line: why this ticket was taken."""
    parts = [ticket.priority]
    if ticket.response_due_s <= now_s:
        parts.append("response overdue")
    parts.append("from another partner's queue" if held else "unassigned")
    return f"{TAKEN}: {', '.join(parts)}"


def next_ticket(
    own: Order | None,
    waiting: Sequence[Open],
    others: Sequence[Held],
    now_s: int,
    may_take: Callable[[Open], bool],
    looks: int = LOOKS,
) -> Pick | None:
    """The ticket a partner coming free takes next, or None when nothing is more urgent than
    the first of their own queue (``own``, the :meth:`Open.order` of it; None when empty).

    ``waiting``: the unassigned tickets; ``others``: the other partners' queues. The first of
    the ``looks`` most urgent candidates that ``may_take`` allows is taken."""
    for ticket, held in candidates(own, waiting, others, now_s)[:looks]:
        if may_take(ticket):
            return Pick(ticket, held, why(ticket, held, now_s))
    return None
