"""Recurrence rules of maintenance schedules (RFC 5545 RRULE), checked and stepped.

Pure: dateutil and the standard library only.  Times are aware; a rule is read in the
schedule's own time zone, so "every first Monday at 08:00" stays 08:00 across DST.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# A rule may not fire more often than this (a schedule makes tickets, not a stream of them).
MIN_GAP = dt.timedelta(minutes=1)
# How many occurrences are read to judge the gap between them.
SAMPLE = 50
MAX_RULE_LENGTH = 500


class RuleRefused(ValueError):
    """A rule that cannot be used, with what is wrong in words."""


@dataclass(frozen=True)
class Due:
    """What a sweep decides for one schedule at one moment."""

    slot: dt.datetime | None  # the occurrence to make work for now (the latest one due)
    next_at: dt.datetime | None  # the first occurrence not yet due (None: the rule has ended)


def parse(text: str, starts_at: dt.datetime, zone: str) -> rrule:
    """The rule of ``text`` ("FREQ=WEEKLY;BYDAY=MO", with or without "RRULE:") from
    ``starts_at``, read in ``zone``; refused if it is malformed, never fires, or fires more
    than once a minute."""
    line = text.strip()
    if line.upper().startswith("RRULE:"):
        line = line[6:]
    if not line or len(line) > MAX_RULE_LENGTH or "\n" in line:
        raise RuleRefused("Give one RRULE line, such as FREQ=MONTHLY;BYDAY=1MO.")
    if "DTSTART" in line.upper():
        raise RuleRefused("Give the start separately, not DTSTART in the rule.")
    start = starts_at.astimezone(ZoneInfo(zone)).replace(microsecond=0)
    try:
        rule = rrulestr(line, dtstart=start)
    except (ValueError, TypeError, KeyError) as error:
        raise RuleRefused(f"The rule cannot be read ({error}).") from None
    if not isinstance(rule, rrule):
        raise RuleRefused("Give a single RRULE, not a set of rules.")
    _check_gaps(rule)
    return rule


def _check_gaps(rule: rrule) -> None:
    previous = None
    for count, moment in enumerate(rule):
        if previous is not None and moment - previous < MIN_GAP:
            raise RuleRefused("The rule fires more than once a minute.")
        previous = moment
        if count >= SAMPLE:
            break
    if previous is None:
        raise RuleRefused("The rule never fires.")


def first_at_or_after(rule: rrule, moment: dt.datetime) -> dt.datetime | None:
    found: dt.datetime | None = rule.after(moment, inc=True)
    return found


def due(rule: rrule, next_at: dt.datetime | None, lead: dt.timedelta, now: dt.datetime) -> Due:
    """Which occurrence to make work for at ``now``: the latest one whose lead time has come
    (one, however many were missed while the clock was down), and the next one after it."""
    if next_at is None or next_at - lead > now:
        return Due(slot=None, next_at=next_at)
    latest: dt.datetime | None = rule.before(now + lead, inc=True)
    slot = latest if latest is not None and latest >= next_at else next_at
    following: dt.datetime | None = rule.after(slot)
    return Due(slot=slot, next_at=following)


# A moved occurrence goes at most this many days ahead; past it, the occurrence is skipped.
MAX_MOVE_DAYS = 14
SKIP, MOVE, IGNORE = "skip", "move", "ignore"


def on_working_day(
    rule: rrule,
    slot: dt.datetime,
    earliest: dt.datetime,
    working: Callable[[dt.date], bool],
    mode: str,
    zone: str,
) -> dt.datetime | None:
    """The occurrence to make work for instead of ``slot`` when closed days matter.

    ``working(date)`` says whether a local date (in ``zone``) is a working day.  ``skip``: a
    slot on a closed day gives way to the latest earlier occurrence not before ``earliest``
    that falls on a working day (what catching up after downtime should make), else none;
    ``move``: the same wall-clock time on the next working day, at most ``MAX_MOVE_DAYS``
    ahead, else none; and none when that day is on or after the rule's next occurrence (the
    moved occurrence merges into the next one, whose work covers it); ``ignore``: the slot as
    it is.
    """
    local = ZoneInfo(zone)
    if mode == IGNORE or working(slot.astimezone(local).date()):
        return slot
    if mode == MOVE:
        wall = slot.astimezone(local).replace(tzinfo=None)
        for days in range(1, MAX_MOVE_DAYS + 1):
            moved = wall + dt.timedelta(days=days)
            if working(moved.date()):
                landed = moved.replace(tzinfo=local)
                following: dt.datetime | None = rule.after(slot)
                return None if following is not None and landed >= following else landed
        return None
    candidate: dt.datetime | None = rule.before(slot)
    for _ in range(SAMPLE):
        if candidate is None or candidate < earliest:
            return None
        if working(candidate.astimezone(local).date()):
            return candidate
        candidate = rule.before(candidate)
    return None
