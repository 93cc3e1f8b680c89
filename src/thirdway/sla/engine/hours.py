"""Parsing and validation of calendar definitions: opening hours per weekday.

Times and the intervals of a day follow :mod:`thirdway.weekly_hours`; a calendar adds its own
forms (``"HH:MM-HH:MM"`` strings, seven tuples of integer minutes), asks for some hours in the
week, and reports every problem as a :class:`CalendarError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from thirdway.weekly_hours import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    Day,
    HoursError,
    Interval,
    Week,
    check_day,
    parse_time,
)


class CalendarError(ValueError):
    """A calendar definition is invalid; the message says what is wrong and what is allowed."""


@contextmanager
def _calendar_errors() -> Iterator[None]:
    try:
        yield
    except HoursError as error:
        raise CalendarError(str(error)) from error


def parse_hhmm(text: str) -> int:
    """Parse ``"HH:MM"`` (00:00 to 24:00) into minutes since local midnight.

    24:00 is accepted so an interval can run to the end of the day.
    """
    with _calendar_errors():
        return parse_time(text, blanks=True)


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


def _validate_day(weekday: str, intervals: object) -> Day:
    """Check one weekday's intervals and return them sorted by start."""
    if not isinstance(intervals, Iterable) or isinstance(intervals, str):
        raise CalendarError(f"hours for {weekday} must be a sequence of (start, end) pairs")
    with _calendar_errors():
        return check_day(weekday, (_minute_pair(weekday, interval) for interval in intervals))


def _minute_pair(weekday: str, interval: object) -> Interval:
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
    if not (0 <= start <= MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY):
        raise CalendarError(
            f"interval {(start, end)!r} on {weekday} is out of range: minutes must be between "
            f"0 (00:00) and {MINUTES_PER_DAY} (24:00)"
        )
    return start, end


def _validate_week(weekly_hours: object) -> Week:
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
