"""Business-time arithmetic for SLA clocks.

This package is deliberately free of Django and of the rest of the project: it only uses the
standard library and the pure :mod:`thirdway.weekly_hours`, so the web app, the dispatch
simulator and offline scripts can all call it with plain dataclasses.  Its modules: ``hours``
(reading opening hours), ``zones`` (UTC offset changes), ``calendar`` (business time),
``clocks`` (SLA clocks) and ``escalation`` (which steps to fire).

Business time
-------------
A :class:`Calendar` describes opening hours in *local wall-clock time* of an IANA time zone,
per weekday, plus closed dates supplied by the caller (public holidays, the practice's own
closed days).  An instant is *business time* when its local wall-clock reading falls inside
one of the intervals of its local weekday and its local date is not closed.  That pointwise
definition settles every daylight-saving question without choosing a ``fold``:

* spring forward: wall-clock times in the gap never happen, so they contribute nothing.  An
  08:00-17:00 day whose hours contain the 02:00-03:00 gap lasts 8 real hours; a day whose hours
  do not contain the gap is unaffected.
* fall back: wall-clock times in the repeated hour happen twice, and count twice when they are
  inside business hours (a 00:00-24:00 day lasts 25 real hours).
* boundaries that fall in a gap or in a repeated hour need no special rule: an interval
  starting at a nonexistent 02:30 effectively opens at the first instant after the gap, an
  interval ending at an ambiguous 02:30 is open during both passes through [.., 02:30).

Intervals are half-open ``[start, end)`` and may end at 24:00 (the next local midnight), so
18:00-24:00 followed by 00:00-06:00 the next day is one continuous stretch.

Resolution and representation
-----------------------------
Inputs are aware datetimes in any zone; outputs are aware UTC datetimes.  Internally every
instant is an integer count of microseconds since the Unix epoch, so arithmetic is exact and
fast.  Business time is materialised lazily, per calendar, as sorted UTC intervals for each
local date (cached) and for each UTC week ("block", cached, with running totals so a lookup is
one bisection).  Runs of weeks without a closed date or an offset change all contain exactly
the nominal weekly hours, so long spans skip them arithmetically instead of walking days.

SLA clocks
----------
:class:`SlaClock` is one target of a ticket (e.g. first response in 4 business hours) with the
pauses recorded so far; :func:`evaluate_clock` / :func:`evaluate_many` turn it into a
:class:`ClockState`, and :func:`due_escalations` tells which escalation steps to fire.  An
evaluation at ``now`` only uses facts known at ``now`` (pause portions after ``now`` are
ignored), so evaluating at a past instant replays exactly what was known then.
"""

from __future__ import annotations

from thirdway.sla.engine.calendar import (
    Calendar,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_open,
)
from thirdway.sla.engine.clocks import (
    ClockError,
    ClockState,
    Pause,
    SlaClock,
    evaluate_clock,
    evaluate_many,
    next_change,
)
from thirdway.sla.engine.escalation import (
    EscalationError,
    EscalationPolicy,
    EscalationStep,
    due_escalations,
)
from thirdway.sla.engine.hours import CalendarError, parse_hhmm, parse_interval
from thirdway.weekly_hours import WEEKDAYS

__all__ = [
    "WEEKDAYS",
    "Calendar",
    "CalendarError",
    "ClockError",
    "ClockState",
    "EscalationError",
    "EscalationPolicy",
    "EscalationStep",
    "Pause",
    "SlaClock",
    "add_business_seconds",
    "business_seconds_between",
    "due_escalations",
    "evaluate_clock",
    "evaluate_many",
    "is_open",
    "next_change",
    "next_open",
    "parse_hhmm",
    "parse_interval",
]
