"""Storms: tickets that are one incident, and when a skill's queue is in surge.

Pure functions (no Django, no simulator state), so the simulator and the live desk decide
the same way:

- :func:`link_incident` finds the open ticket a new one belongs under: same client, same
  skill, arrived within the window after it, and — where both tickets name them — the same
  site and the same asset. The parent is the earliest such ticket that is not itself linked.
- :func:`in_surge` says whether a skill's waiting work outgrows the partners who could take
  it; :func:`deferred_in_surge` whether a ticket of a priority waits out the surge;
  :func:`drive_in_surge` whether the engine weighs routine work's drive as in a surge.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

DEFAULT_WINDOW_S = 15 * 60
DEFAULT_SURGE_RATIO = 2.0
# The engine weighs routine work's drive as in a surge only when more tickets than this wait:
# a few before the one partner on call at night are no storm (docs/dispatch.md).
DRIVE_SURGE_LEAST = 8


@dataclass(frozen=True, slots=True)
class IncidentTicket:
    """What linking looks at. ``site`` and ``asset`` are ``None`` where unknown."""

    id: int
    client: Hashable
    practice: str
    arrival_s: int
    site: Hashable | None = None
    asset: Hashable | None = None
    parent: int | None = None  # set when the ticket is itself linked under another


def _same(a: Hashable | None, b: Hashable | None) -> bool:
    """Equal where both are known; an unknown side does not separate two tickets."""
    return a is None or b is None or a == b


def link_incident(
    ticket: IncidentTicket, open_tickets: Iterable[IncidentTicket], window_s: int = DEFAULT_WINDOW_S
) -> int | None:
    """The id of the open ticket ``ticket`` is a repeat of, or ``None``.

    Only tickets that arrived at most ``window_s`` before ``ticket`` (and not after it)
    count; of those the earliest (then lowest id) wins, so every repeat of an incident
    hangs under its first ticket."""
    if window_s < 0:
        raise ValueError("window_s must be zero or more")
    best: IncidentTicket | None = None
    for other in open_tickets:
        if other.id == ticket.id or other.parent is not None:
            continue
        age = ticket.arrival_s - other.arrival_s
        if not 0 <= age <= window_s:
            continue
        if other.client != ticket.client or other.practice != ticket.practice:
            continue
        if not (_same(other.site, ticket.site) and _same(other.asset, ticket.asset)):
            continue
        if best is None or (other.arrival_s, other.id) < (best.arrival_s, best.id):
            best = other
    return None if best is None else best.id


def in_surge(waiting: int, partners_on: int, ratio: float = DEFAULT_SURGE_RATIO) -> bool:
    """Whether ``waiting`` tickets of a skill (not yet started) exceed ``ratio`` times the
    qualified partners covered now (counted as at least one)."""
    if ratio <= 0:
        raise ValueError("ratio must be above zero")
    return waiting > ratio * max(partners_on, 1)


def drive_in_surge(waiting: int, partners_on: int, ratio: float = DEFAULT_SURGE_RATIO) -> bool:
    """Whether routine work's drive weighs as urgent work's (``TicketNeed.surge``): the skill is
    in surge (:func:`in_surge`) with more than ``DRIVE_SURGE_LEAST`` tickets not started."""
    return waiting > DRIVE_SURGE_LEAST and in_surge(waiting, partners_on, ratio)


def deferred_in_surge(priority: str, defer_p3: bool = False) -> bool:
    """Whether a ticket of ``priority`` waits while its skill is in surge: P4 always,
    P3 when the practice asks for it."""
    return priority == "P4" or (defer_p3 and priority == "P3")
