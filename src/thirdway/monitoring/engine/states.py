"""From one check's results, in time order, to its state and what to do about alerts.

Each result moves the check's :class:`CheckState` on (:func:`observe`); time passing without a
result (a dependency's delay running out, a maintenance window ending, a parent recovering) is
:func:`reconsider`.  Both return the new state and the :class:`Action` list the caller carries
out (open an alert, note on it, resolve it).  Everything is a frozen dataclass: the caller
stores the state and hands it back with the next result.

Soft and hard states
    A problem (warning, critical or unknown) after an OK is *soft*: the check is run again
    every ``retry_interval`` and turns *hard* at the ``max_attempts``-th problem in a row.  An
    OK ends a soft problem quietly and a hard one at once (a recovery needs no confirmation).
    Only hard states open alerts.

Flapping
    The statuses of the last 21 results give 20 possible changes, weighted from 0.80 for the
    oldest to 1.18 for the newest (0.02 a step).  Flapping starts when the weighted share of
    changes reaches ``flap_start`` (30 %) and stops when it falls below ``flap_stop`` (25 %).
    While flapping, nothing is opened or resolved: what happens is noted on the open alert.
    When flapping stops, the current hard state is what counts.

Dependencies
    A check with a parent waits ``dependency_delay`` after turning hard before its alert is
    opened, long enough for the parent's own checks to see the parent down.  If the parent is
    down then, the alert is not created (the state says why).  A down parent never stops a
    child's recovery, and when the parent recovers while the child is still down, the child's
    alert opens.

Maintenance
    Inside a window, no alert is opened; an alert opened before the window is still resolved
    on recovery.  When the window ends, the current state is evaluated: nothing that happened
    inside is replayed.

Every result is evaluated at its collection time (``Result.at``): windows, delays and flapping
use it, never the time it arrived.  A result older than the last one evaluated is ignored.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


PROBLEMS = frozenset({Status.WARNING, Status.CRITICAL, Status.UNKNOWN})
# Nagios plugin exit codes (script checks): 0 ok, 1 warning, 2 critical, 3 unknown.
EXIT_CODES = {0: Status.OK, 1: Status.WARNING, 2: Status.CRITICAL, 3: Status.UNKNOWN}


def status_of_exit_code(code: int) -> Status:
    """A script check's exit code as a status; codes outside 0-3 are unknown."""
    return EXIT_CODES.get(code, Status.UNKNOWN)


class StateType(StrEnum):
    SOFT = "soft"
    HARD = "hard"


class Do(StrEnum):
    """What the caller does with the check's alert."""

    OPEN = "open"  # open the check's alert (there is none open)
    UPDATE = "update"  # the open alert's status changed: a note
    REPEAT = "repeat"  # the problem is still there: count it
    RECOVER = "recover"  # the check recovered: resolve the alert
    NOTE = "note"  # something worth a note on the open alert (flapping, recovered while flapping)
    SUPPRESS = "suppress"  # a hard problem whose alert is not created (``reason`` says why)


@dataclass(frozen=True)
class Action:
    do: Do
    status: Status
    at: dt.datetime
    reason: str = ""


FLAP_WINDOW = 20  # changes looked at (21 statuses)


@dataclass(frozen=True)
class Policy:
    """How one check turns results into states."""

    max_attempts: int = 3
    interval: dt.timedelta = dt.timedelta(minutes=5)
    retry_interval: dt.timedelta = dt.timedelta(minutes=1)
    flap_start: float = 0.30
    flap_stop: float = 0.25
    has_parent: bool = False
    dependency_delay: dt.timedelta = dt.timedelta(minutes=2)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.flap_stop <= self.flap_start <= 1:
            raise ValueError("need 0 < flap_stop <= flap_start <= 1")


@dataclass(frozen=True)
class Surroundings:
    """What is true around the check at a moment: its parent's hard state and maintenance."""

    parent_down: bool = False
    parent: str = ""  # the parent's name, for the reason shown
    maintenance: str = ""  # the name of a window covering the check, or ""
    # Why the result is old news (delivered long after it was collected), or "": a problem
    # seen then is history, it opens no alert until a current result or the sweep confirms it.
    late: str = ""


@dataclass(frozen=True)
class Result:
    at: dt.datetime
    status: Status
    output: str = ""


@dataclass(frozen=True)
class CheckState:
    """Where one check stands; the initial state is an OK nobody has seen yet."""

    status: Status = Status.OK  # of the last result
    state_type: StateType = StateType.HARD
    hard_status: Status = Status.OK
    attempt: int = 0  # problems in a row (0 when OK)
    hard_since: dt.datetime | None = None  # when the hard status began
    last_at: dt.datetime | None = None
    recent: tuple[Status, ...] = field(default=())  # the last 21 statuses, oldest first
    flapping: bool = False
    alert_open: bool = False
    alert_status: Status | None = None  # the status the open alert last said
    suppressed: str = ""  # why a hard problem has no alert, or ""

    @property
    def problem(self) -> bool:
        return self.hard_status in PROBLEMS

    def next_run_at(self, policy: Policy) -> dt.datetime | None:
        """When the check should run again: soon while a problem is soft."""
        if self.last_at is None:
            return None
        soft = self.state_type is StateType.SOFT
        return self.last_at + (policy.retry_interval if soft else policy.interval)


@dataclass(frozen=True)
class Outcome:
    state: CheckState
    actions: tuple[Action, ...]


def flap_share(statuses: tuple[Status, ...]) -> float:
    """The weighted share (0-1) of changes among the last 21 statuses (see the module)."""
    recent = statuses[-(FLAP_WINDOW + 1) :]
    pairs = list(itertools.pairwise(recent))
    offset = FLAP_WINDOW - len(pairs)  # fewer results: the newest weights still apply
    weighted = 0.0
    for index, (before, after) in enumerate(pairs):
        if before != after:
            weighted += 0.8 + 0.02 * (offset + index)
    return weighted / FLAP_WINDOW


def _flapping(was: bool, share: float, policy: Policy) -> bool:
    # Compared in whole hundredths of a percent, so 30 % is 30 % whatever the float sum.
    basis = round(share * 10_000)
    return (
        basis >= round(policy.flap_stop * 10_000)
        if was
        else basis >= round(policy.flap_start * 10_000)
    )


def _hard_step(state: CheckState, result: Result, policy: Policy) -> CheckState:
    if result.status is Status.OK:
        changed = state.hard_status is not Status.OK
        return replace(
            state,
            status=Status.OK,
            state_type=StateType.HARD,
            hard_status=Status.OK,
            attempt=0,
            hard_since=result.at if changed or state.hard_since is None else state.hard_since,
        )
    attempt = state.attempt + 1
    if state.hard_status in PROBLEMS or attempt >= policy.max_attempts:
        changed = state.hard_status is not result.status
        return replace(
            state,
            status=result.status,
            state_type=StateType.HARD,
            hard_status=result.status,
            attempt=attempt,
            hard_since=result.at if changed or state.hard_since is None else state.hard_since,
        )
    return replace(state, status=result.status, state_type=StateType.SOFT, attempt=attempt)


def observe(state: CheckState, policy: Policy, result: Result, around: Surroundings) -> Outcome:
    """The check's state after ``result``, and what to do about its alert."""
    if state.last_at is not None and result.at < state.last_at:
        return Outcome(state, ())  # older than what was evaluated: history, not news
    before = state
    state = _hard_step(state, result, policy)
    recent = (*state.recent, result.status)[-(FLAP_WINDOW + 1) :]
    flapping = _flapping(before.flapping, flap_share(recent), policy)
    state = replace(state, recent=recent, flapping=flapping, last_at=result.at)
    actions: list[Action] = []
    if flapping != before.flapping and state.alert_open:
        word = "started" if flapping else "stopped"
        actions.append(Action(Do.NOTE, state.status, result.at, f"The check {word} flapping."))
    outcome = _decide(state, policy, result.at, around)
    repeat = (
        state.alert_open
        and outcome.state.alert_open
        and state.problem
        and not any(action.do is not Do.NOTE for action in outcome.actions)
    )
    if repeat:
        actions.append(Action(Do.REPEAT, state.hard_status, result.at))
    return Outcome(outcome.state, (*actions, *outcome.actions))


def reconsider(state: CheckState, policy: Policy, at: dt.datetime, around: Surroundings) -> Outcome:
    """The same, when only time has passed (no new result)."""
    if state.last_at is None:
        return Outcome(state, ())
    return _decide(state, policy, max(at, state.last_at), around)


def _decide(state: CheckState, policy: Policy, at: dt.datetime, around: Surroundings) -> Outcome:
    """Open, update, resolve or hold the alert, from the hard state and what is around."""
    if state.flapping:
        return _while_flapping(state, at)
    if not state.problem:
        if state.alert_open:
            done = replace(state, alert_open=False, alert_status=None, suppressed="")
            return Outcome(done, (Action(Do.RECOVER, Status.OK, at),))
        return Outcome(replace(state, suppressed=""), ())
    if state.alert_open:
        if state.alert_status is not state.hard_status:
            updated = replace(state, alert_status=state.hard_status)
            return Outcome(updated, (Action(Do.UPDATE, state.hard_status, at),))
        return Outcome(state, ())
    return _open_or_hold(state, policy, at, around)


def _while_flapping(state: CheckState, at: dt.datetime) -> Outcome:
    if state.alert_open and state.alert_status is not state.hard_status:
        words = f"Now {state.hard_status.value} (flapping: the alert stays as it is)."
        noted = replace(state, alert_status=state.hard_status)
        return Outcome(noted, (Action(Do.NOTE, state.hard_status, at, words),))
    return Outcome(state, ())


def _open_or_hold(
    state: CheckState, policy: Policy, at: dt.datetime, around: Surroundings
) -> Outcome:
    reason = ""
    if around.late:
        reason = f"delivered late ({around.late})"
    elif around.maintenance:
        reason = f"in maintenance ({around.maintenance})"
    elif policy.has_parent:
        assert state.hard_since is not None
        if at < state.hard_since + policy.dependency_delay:
            reason = "waiting for the parent check"
        elif around.parent_down:
            reason = f"parent down ({around.parent or 'parent'})"
    if reason:
        if reason == state.suppressed:
            return Outcome(state, ())
        held = replace(state, suppressed=reason)
        return Outcome(held, (Action(Do.SUPPRESS, state.hard_status, at, reason),))
    opened = replace(state, alert_open=True, alert_status=state.hard_status, suppressed="")
    return Outcome(opened, (Action(Do.OPEN, state.hard_status, at),))
