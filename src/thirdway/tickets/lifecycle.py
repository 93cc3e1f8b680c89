"""The ticket lifecycle and priority matrix: pure rules, no Django, so every face shares them."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CLIENT = "waiting_client"
    WAITING_THIRD_PARTY = "waiting_third_party"
    SCHEDULED = "scheduled"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


LABELS = {
    Status.NEW: "New",
    Status.ASSIGNED: "Assigned",
    Status.IN_PROGRESS: "In progress",
    Status.WAITING_CLIENT: "Waiting on client",
    Status.WAITING_THIRD_PARTY: "Waiting on third party",
    Status.SCHEDULED: "Scheduled",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
    Status.MERGED: "Merged",
}

OPEN = frozenset(
    {
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_CLIENT,
        Status.WAITING_THIRD_PARTY,
        Status.SCHEDULED,
    }
)
WAITING = frozenset({Status.WAITING_CLIENT, Status.WAITING_THIRD_PARTY, Status.SCHEDULED})
WORKING = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})

_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(OPEN - {Status.NEW} | {Status.RESOLVED, Status.CLOSED}),
    Status.ASSIGNED: frozenset(OPEN - {Status.ASSIGNED} | {Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset(
        OPEN - {Status.IN_PROGRESS, Status.NEW} | {Status.RESOLVED, Status.CLOSED}
    ),
    Status.WAITING_CLIENT: frozenset(
        {
            Status.IN_PROGRESS,
            Status.ASSIGNED,
            Status.WAITING_THIRD_PARTY,
            Status.SCHEDULED,
            Status.RESOLVED,
            Status.CLOSED,
        }
    ),
    Status.WAITING_THIRD_PARTY: frozenset(
        {
            Status.IN_PROGRESS,
            Status.ASSIGNED,
            Status.WAITING_CLIENT,
            Status.SCHEDULED,
            Status.RESOLVED,
            Status.CLOSED,
        }
    ),
    Status.SCHEDULED: frozenset(
        {
            Status.IN_PROGRESS,
            Status.ASSIGNED,
            Status.WAITING_CLIENT,
            Status.WAITING_THIRD_PARTY,
            Status.RESOLVED,
            Status.CLOSED,
        }
    ),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
    Status.MERGED: frozenset(),
}


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow; ``allowed`` lists the ones it does."""

    def __init__(self, current: Status, wanted: str, allowed: list[str]) -> None:
        self.current, self.wanted, self.allowed = current, wanted, allowed
        choices = ", ".join(allowed) or "none (the ticket was merged)"
        super().__init__(f"A ticket that is {current} cannot become {wanted}; allowed: {choices}.")


def allowed_from(current: str) -> list[str]:
    return sorted(status.value for status in _TRANSITIONS[Status(current)])


def check_transition(current: str, wanted: str) -> Status:
    """The wanted status, if the lifecycle allows moving there from ``current``."""
    current_status = Status(current)
    try:
        target = Status(wanted)
    except ValueError:
        raise TransitionRefused(current_status, wanted, allowed_from(current)) from None
    if target not in _TRANSITIONS[current_status]:
        raise TransitionRefused(current_status, wanted, allowed_from(current))
    return target


# Impact and urgency run from 1 (high) to 3 (low); the matrix gives P1 (most urgent) to P4.
PRIORITY_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 4,
}


def priority_for(impact: int, urgency: int) -> int:
    """P1..P4 from impact and urgency (each 1 = high, 2 = medium, 3 = low)."""
    if (impact, urgency) not in PRIORITY_MATRIX:
        raise ValueError("impact and urgency must each be 1 (high), 2 (medium) or 3 (low)")
    return PRIORITY_MATRIX[(impact, urgency)]
