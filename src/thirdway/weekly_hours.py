"""Weekly hours: how "HH:MM" times and the intervals of each weekday are read and checked.

A partner's working hours (network), an SLA calendar's opening hours (the SLA engine) and a
partner's shifts as the dispatcher sees them are all hours per weekday in a local time zone.
They follow the rules below, written here once.  Pure Python (no Django, nothing else of
thirdway), so the engines can use it.

* A time is ``HH:MM`` in ASCII digits, 00:00 to 23:59, or 24:00 for the end of the day.  It is
  read as minutes since local midnight, 0 to 1440.
* An interval of one day is half-open, ``[start, end)``: it starts before it ends and may end
  at 24:00, so it never crosses midnight.  The intervals of one day do not overlap; touching
  ones (08:00-12:00 and 12:00-17:00) are allowed.
* A shift may cross midnight: an end at or before its start falls on the next day, and is
  counted past 1440.  It may not be empty nor start at 24:00.
* A wall-clock time that does not exist (the gap of a spring-forward change) or happens twice
  (a fall-back change) is the instant Python gives ``fold=0``: the offset before the change.

Each room keeps its own containers (a JSON object of lists, a mapping of pairs, seven tuples of
minutes) and may word a refusal its own way: :class:`HoursError` says which rule was broken.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "MINUTES_PER_DAY",
    "WEEKDAYS",
    "Day",
    "HoursError",
    "Interval",
    "Problem",
    "Week",
    "check_day",
    "format_interval",
    "format_time",
    "parse_shift",
    "parse_time",
    "time_of_day",
    "wall_clock",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys, Monday first, so ``WEEKDAYS[d.weekday()]`` is the key of date ``d``."""

MINUTES_PER_DAY = 24 * 60

Interval = tuple[int, int]
"""``(start, end)`` in minutes since local midnight, half-open."""

Day = tuple[Interval, ...]
"""The intervals of one weekday, sorted by start."""

Week = tuple[Day, ...]
"""Seven days of intervals, Monday first."""

Problem = Literal["time", "inverted", "overlap", "shift"]

_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")


class HoursError(ValueError):
    """Hours that break one of the rules; the message says which and what is allowed.

    ``problem`` names the rule ("time", "inverted", "overlap" or "shift"), ``day`` the weekday
    concerned (None for a lone time) and ``value`` what was refused: the text of a time, the
    interval in minutes, the two overlapping intervals, or the shift as given.
    """

    def __init__(
        self, problem: Problem, message: str, *, day: str | None = None, value: object = None
    ) -> None:
        super().__init__(message)
        self.problem: Problem = problem
        self.day = day
        self.value = value


def parse_time(text: object, *, blanks: bool = False) -> int:
    """Minutes since local midnight of ``"HH:MM"`` (00:00 to 24:00).

    ``blanks`` lets spaces surround the time (SLA calendars read ``"08:00 - 12:00"``).
    """
    match = None
    if isinstance(text, str):
        match = _HHMM.fullmatch(text.strip() if blanks else text)
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise HoursError(
        "time",
        f"malformed time {text!r}: expected HH:MM with two-digit hours 00-23 and minutes "
        "00-59, or 24:00 for the end of the day",
        value=text,
    )


def format_time(minute: int) -> str:
    """``"HH:MM"`` of a minute since local midnight (1440 is ``"24:00"``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_interval(interval: Interval) -> str:
    return f"{format_time(interval[0])}-{format_time(interval[1])}"


def time_of_day(minute: int) -> dt.time:
    """The clock time of a minute since local midnight; 24:00 reads as midnight."""
    hours, minutes = divmod(minute % MINUTES_PER_DAY, 60)
    return dt.time(hours, minutes)


def check_day(day: str, intervals: Iterable[Interval]) -> Day:
    """The intervals of ``day`` sorted by start, once each is ordered and none overlap.

    Each interval is checked as it is drawn from ``intervals``, so a caller that parses them
    lazily reports the first problem in the order they were given.
    """
    checked: list[Interval] = []
    for start, end in intervals:
        if start >= end:
            raise HoursError(
                "inverted",
                f"inverted interval {format_interval((start, end))} on {day}: the start must "
                "be before the end; an interval may end at 24:00 but cannot cross midnight "
                "(split it over two days instead)",
                day=day,
                value=(start, end),
            )
        checked.append((start, end))
    checked.sort()
    for earlier, later in pairwise(checked):
        if later[0] < earlier[1]:
            raise HoursError(
                "overlap",
                f"overlapping intervals on {day}: {format_interval(earlier)} and "
                f"{format_interval(later)}; intervals of one day must not overlap (touching, "
                "like 08:00-12:00 and 12:00-17:00, is allowed)",
                day=day,
                value=(earlier, later),
            )
    return tuple(checked)


def parse_shift(day: str, start: object, end: object) -> Interval:
    """A shift of ``day`` in minutes; one that crosses midnight ends past 1440.

    The end is only read once the start is known to be a valid start.
    """
    first = parse_time(start)
    if first < MINUTES_PER_DAY:
        last = parse_time(end)
        if last != first:
            return first, last if last > first else last + MINUTES_PER_DAY
    raise HoursError(
        "shift", f"empty or invalid shift {start}-{end} on {day}", day=day, value=(start, end)
    )


def wall_clock(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    """The aware instant of ``minute`` past local midnight of ``day`` (may run into later days)."""
    days, minute = divmod(minute, MINUTES_PER_DAY)
    return dt.datetime.combine(day + dt.timedelta(days=days), time_of_day(minute), zone)
