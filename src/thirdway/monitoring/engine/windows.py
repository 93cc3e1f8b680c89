"""Maintenance windows: one-off (two instants) or weekly (days, a local start time, a length).

A weekly window is written in the *local wall-clock time* of its time zone, the way people
book maintenance ("Sundays 01:00 to 04:00, Paris time").  Its start and end are both read on
the wall clock: on the night clocks go forward, 01:00-04:00 lasts two real hours, on the night
they go back, four.  A start that falls in the hour that does not exist begins when the clock
reaches the hour after; a start in the repeated hour begins at its first pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MAX_LENGTH = dt.timedelta(days=7)


@dataclass(frozen=True)
class OneOffWindow:
    starts_at: dt.datetime
    ends_at: dt.datetime

    def covers(self, at: dt.datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class WeeklyWindow:
    weekdays: frozenset[int]  # Monday is 0
    start: dt.time
    length: dt.timedelta  # of wall-clock time, up to a week
    time_zone: str

    def covers(self, at: dt.datetime) -> bool:
        zone = ZoneInfo(self.time_zone)
        local = at.astimezone(zone)
        back = self.length.days + 1
        for days in range(back, -1, -1):
            day = local.date() - dt.timedelta(days=days)
            if day.weekday() not in self.weekdays:
                continue
            begins, ends = self.occurrence(day)
            if begins <= at < ends:
                return True
        return False

    def occurrence(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The window that starts on local date ``day``, as two UTC instants."""
        zone = ZoneInfo(self.time_zone)
        wall_start = dt.datetime.combine(day, self.start)
        return _instant(wall_start, zone), _instant(wall_start + self.length, zone)


def _instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first UTC instant at which the local clock reads ``wall``: a repeated time is its
    first pass, a time in the forward gap is the moment the clock jumps over it."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In the gap the two readings straddle the change: find it, to the second.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    low, high = sorted((first, other))
    before = low.astimezone(zone).utcoffset()
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        moment = dt.datetime.fromtimestamp(middle, dt.UTC)
        if moment.astimezone(zone).utcoffset() == before:
            low_s = middle
        else:
            high_s = middle
    return dt.datetime.fromtimestamp(high_s, dt.UTC)


Window = OneOffWindow | WeeklyWindow


def covering(windows: dict[str, Window], at: dt.datetime) -> str:
    """The name of a window covering ``at`` (the first by name), or ""."""
    for name in sorted(windows):
        if windows[name].covers(at):
            return name
    return ""
