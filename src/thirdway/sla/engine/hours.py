"""Parsing and validation of calendar definitions: opening hours per weekday."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys accepted by :meth:`Calendar.from_hours`, Monday first (``date.weekday()``)."""

MINUTES_PER_DAY = 24 * 60

_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")


class CalendarError(ValueError):
    """A calendar definition is invalid; the message says what is wrong and what is allowed."""


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _fmt_interval(interval: tuple[int, int]) -> str:
    return f"{_fmt_minute(interval[0])}-{_fmt_minute(interval[1])}"


def parse_hhmm(text: str) -> int:
    """Parse ``"HH:MM"`` (00:00 to 24:00) into minutes since local midnight.

    24:00 is accepted so an interval can run to the end of the day.
    """
    match = _HHMM.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise CalendarError(
        f"malformed time {text!r}: expected HH:MM with two-digit hours 00-23 and minutes "
        "00-59, or 24:00 for the end of the day"
    )


def parse_interval(spec: str | tuple[str, str]) -> tuple[int, int]:
    """Parse ``"08:00-12:00"`` or ``("08:00", "12:00")`` into a (start, end) minute pair.

    Only the format is checked here; ordering and overlaps are checked by the calendar.
    """
    if isinstance(spec, str):
        parts = spec.split("-")
        if len(parts) != 2:
            raise CalendarError(
                f"malformed interval {spec!r}: expected 'HH:MM-HH:MM', e.g. '08:00-12:00'"
            )
        start_text, end_text = parts
    elif isinstance(spec, tuple) and len(spec) == 2:
        start_text, end_text = spec
    else:
        raise CalendarError(
            f"malformed interval {spec!r}: expected 'HH:MM-HH:MM' or a (start, end) pair"
        )
    return parse_hhmm(start_text), parse_hhmm(end_text)


def _validate_day(weekday: str, intervals: object) -> tuple[tuple[int, int], ...]:
    """Check one weekday's intervals and return them sorted by start."""
    if not isinstance(intervals, Iterable) or isinstance(intervals, str):
        raise CalendarError(f"hours for {weekday} must be a sequence of (start, end) pairs")
    checked: list[tuple[int, int]] = []
    for interval in intervals:
        if (
            not isinstance(interval, tuple | list)
            or len(interval) != 2
            or not all(type(value) is int for value in interval)
        ):
            raise CalendarError(
                f"interval {interval!r} on {weekday} must be a pair of integer minutes since "
                "local midnight (use Calendar.from_hours to give 'HH:MM-HH:MM' strings)"
            )
        start, end = interval
        interval = (start, end)
        if not (0 <= start <= MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY):
            raise CalendarError(
                f"interval {interval!r} on {weekday} is out of range: minutes must be between "
                f"0 (00:00) and {MINUTES_PER_DAY} (24:00)"
            )
        if start >= end:
            raise CalendarError(
                f"inverted interval {_fmt_interval(interval)} on {weekday}: the start must be "
                "before the end; an interval may end at 24:00 but cannot cross midnight "
                "(split it over two days instead)"
            )
        checked.append(interval)
    checked.sort()
    for earlier, later in pairwise(checked):
        if later[0] < earlier[1]:
            raise CalendarError(
                f"overlapping intervals on {weekday}: {_fmt_interval(earlier)} and "
                f"{_fmt_interval(later)}; intervals of one day must not overlap (touching, "
                "like 08:00-12:00 and 12:00-17:00, is allowed)"
            )
    return tuple(checked)


def _validate_week(weekly_hours: object) -> tuple[tuple[tuple[int, int], ...], ...]:
    if (
        not isinstance(weekly_hours, Sequence)
        or isinstance(weekly_hours, str)
        or len(weekly_hours) != 7
    ):
        raise CalendarError(
            "weekly_hours must hold exactly 7 entries, Monday first, each a sequence of "
            "(start, end) minute pairs (an empty sequence for a closed weekday)"
        )
    week = tuple(_validate_day(name, day) for name, day in zip(WEEKDAYS, weekly_hours, strict=True))
    if not any(week):
        raise CalendarError(
            "the calendar has no business hours on any weekday: at least one interval is "
            "required, otherwise no SLA target could ever be reached"
        )
    return week
