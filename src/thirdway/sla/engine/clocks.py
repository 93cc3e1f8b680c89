"""SLA clocks: a target with its pauses, evaluated against a calendar at an instant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from thirdway.sla.engine.calendar import Calendar, _from_us, _Schedule, _to_us
from thirdway.sla.engine.zones import _EPOCH, _ONE_US, _US


class ClockError(ValueError):
    """An SLA clock or pause is invalid."""


@dataclass(frozen=True, slots=True)
class Pause:
    """A stretch ``[start, end)`` during which the clock does not run; ``end=None``: ongoing."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        start = _aware_for_clock(self.start, "pause start")
        if self.end is not None and _aware_for_clock(self.end, "pause end") < start:
            raise ClockError(f"pause ends ({self.end}) before it starts ({self.start})")


def _aware_for_clock(value: object, name: str) -> int:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ClockError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return (value - _EPOCH) // _ONE_US


def _pause_spans(pauses: tuple[Pause, ...]) -> tuple[tuple[int, int | None], ...]:
    """Pauses as microsecond spans sorted by start (overlaps are resolved when evaluating)."""
    spans = (
        (_to_us(p.start, "pause start"), None if p.end is None else _to_us(p.end, "pause end"))
        for p in pauses
    )
    return tuple(sorted(spans, key=lambda span: span[0]))


@dataclass(frozen=True)
class SlaClock:
    """One SLA target of a ticket (first response, resolution...).

    ``calendar_key`` names the calendar in the mapping given to :func:`evaluate_many`;
    ``target_seconds`` is the business-time budget counted from ``started_at``; ``pauses``
    are the stretches so far during which the clock stopped (e.g. waiting on the customer).
    Paused time is the union of the pauses, so they may overlap or extend before the start.
    """

    calendar_key: str
    started_at: datetime
    target_seconds: int
    pauses: tuple[Pause, ...] = ()
    if TYPE_CHECKING:
        # Precomputed microsecond forms (plain attributes, not fields), so that evaluating
        # the clock repeatedly stays cheap.  init=False: see Calendar._schedule.
        _start_us: int = field(init=False)
        _pause_spans: tuple[tuple[int, int | None], ...] = field(init=False)

    def __post_init__(self) -> None:
        if type(self.target_seconds) is not int or self.target_seconds <= 0:
            raise ClockError(
                f"target_seconds must be a positive integer, got {self.target_seconds!r}"
            )
        start = _aware_for_clock(self.started_at, "started_at")
        pauses = tuple(self.pauses)
        for pause in pauses:
            if not isinstance(pause, Pause):
                raise ClockError(f"pauses must be Pause instances, got {pause!r}")
        object.__setattr__(self, "pauses", pauses)
        object.__setattr__(self, "_start_us", start)
        object.__setattr__(self, "_pause_spans", _pause_spans(pauses))


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where an SLA clock stands at the evaluation instant.

    * ``elapsed_seconds``: business time consumed so far (pauses excluded), floored.
    * ``remaining_seconds``: ``target - elapsed``, never negative.
    * ``due_at``: the instant the target is (or was, once breached) reached.  ``None`` while
      the clock is paused and not yet breached: the due time depends on when it resumes.
      Otherwise it assumes the clock keeps running from now on.
    * ``breached``: the whole budget is used up (``elapsed >= target``); a ticket still open
      at ``due_at`` is therefore breached.
    * ``fraction_elapsed``: ``elapsed / target``; above 1.0 once overdue (not clamped).
    """

    target_seconds: int
    elapsed_seconds: int
    remaining_seconds: int
    due_at: datetime | None
    breached: bool
    paused: bool
    fraction_elapsed: float


def _running_stretches(clock: SlaClock, now: int) -> tuple[list[tuple[int, int]], bool]:
    """The stretches [a, b) before ``now`` during which the clock ran, and whether it is paused.

    Only facts known at ``now`` count: a pause starting after ``now`` is ignored and one ending
    after ``now`` is treated as still ongoing.  Paused means a pause covers ``now``.
    """
    stretches: list[tuple[int, int]] = []
    # The clock runs from the cursor until the next pause (or now).  Pauses come sorted by
    # start and the cursor only moves forward, so overlapping pauses simply merge.
    cursor = clock._start_us
    for pause_start, pause_end in clock._pause_spans:
        if pause_start > now:
            break
        if min(pause_start, now) > cursor:
            stretches.append((cursor, min(pause_start, now)))
        if pause_end is None or pause_end > now:
            return stretches, True
        cursor = max(cursor, pause_end)
    if now > cursor:
        stretches.append((cursor, now))
    return stretches, False


def _evaluate(schedule: _Schedule, clock: SlaClock, now: int) -> ClockState:
    target = clock.target_seconds * _US
    stretches, paused = _running_stretches(clock, now)
    elapsed = 0
    due: int | None = None
    for start, end in stretches:
        gained = schedule.between(start, end)
        if due is None and elapsed + gained >= target:
            due = schedule.add(start, target - elapsed)  # the budget ran out in this stretch
        elapsed += gained
    if due is None and not paused:
        # Not reached yet: assume the clock keeps running from now (or from its start).
        due = schedule.add(max(now, clock._start_us), target - elapsed)
    elapsed_s = elapsed // _US
    return ClockState(
        target_seconds=clock.target_seconds,
        elapsed_seconds=elapsed_s,
        remaining_seconds=max(0, clock.target_seconds - elapsed_s),
        due_at=None if due is None else _from_us(due),
        breached=elapsed >= target,
        paused=paused,
        fraction_elapsed=elapsed_s / clock.target_seconds,
    )


def evaluate_clock(calendar: Calendar, clock: SlaClock, now: datetime) -> ClockState:
    """Evaluate one clock at ``now`` against ``calendar`` (``clock.calendar_key`` is ignored)."""
    return _evaluate(calendar._schedule, clock, _to_us(now, "now"))


def evaluate_many(
    calendars: Mapping[str, Calendar], clocks: Iterable[SlaClock], now: datetime
) -> list[ClockState]:
    """Evaluate many clocks at the same ``now``; results come in the order of ``clocks``.

    Each clock's ``calendar_key`` must be a key of ``calendars`` (``KeyError`` otherwise).
    Calendars keep their caches between calls, so re-evaluating every few minutes is cheaper
    than the first call.
    """
    now_us = _to_us(now, "now")
    schedules: dict[str, _Schedule] = {}
    states: list[ClockState] = []
    append = states.append
    for clock in clocks:
        key = clock.calendar_key
        schedule = schedules.get(key)
        if schedule is None:
            if key not in calendars:
                raise KeyError(f"clock refers to unknown calendar {key!r}")
            schedule = schedules[key] = calendars[key]._schedule
        append(_evaluate(schedule, clock, now_us))
    return states


def next_change(
    calendar: Calendar, clock: SlaClock, now: datetime, percents: Iterable[int] = ()
) -> datetime | None:
    """The earliest instant after ``now`` at which evaluating ``clock`` can tell something new:
    the first of ``percents`` (escalation steps not fired yet) not reached at ``now``, or the
    next start or end of a pause.  ``None``: nothing changes until the clock's facts do.

    While the clock runs its due time stays where it is, so only these instants matter: a
    step's percent is reached at the instant its business time is used up (see
    ``EscalationPolicy.due``), and a pause boundary stops or restarts the clock.  A reached
    percent in ``percents`` gives ``now`` (it is still to be fired).
    """
    now_us = _to_us(now, "now")
    upcoming = [
        edge
        for start, end in clock._pause_spans
        for edge in (start, end)
        if edge is not None and edge > now_us
    ]
    stretches, paused = _running_stretches(clock, now_us)
    if not paused:
        schedule = calendar._schedule
        elapsed = sum(schedule.between(start, end) for start, end in stretches)
        for percent in sorted(percents):
            # Reached iff the floored elapsed seconds reach ceil(percent * target / 100).
            need = -(-percent * clock.target_seconds // 100) * _US
            if need <= elapsed:
                return now
            upcoming.append(schedule.add(max(now_us, clock._start_us), need - elapsed))
            break
    return _from_us(min(upcoming)) if upcoming else None
