"""Calendar: business time compiled to sorted UTC intervals, and its public arithmetic."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from thirdway.sla.engine.hours import CalendarError, _validate_week, parse_interval
from thirdway.sla.engine.zones import (
    _DAY,
    _EPOCH,
    _EPOCH_ORDINAL,
    _EPOCH_WEEKDAY,
    _ONE_US,
    _US,
    _WEEK,
    _zone_offsets,
)
from thirdway.weekly_hours import MINUTES_PER_DAY, WEEKDAYS

# Below this many weeks, walking cached weekly blocks is cheaper than looking for a run of
# regular weeks to skip.
_SKIP_MIN_BLOCKS = 8

# Bounds on the per-calendar caches: a long-running process answering queries all over the
# calendar must not grow without limit (a cleared cache is simply rebuilt on demand).
_MAX_CACHED_DAYS = 100_000
_MAX_CACHED_BLOCKS = 15_000


def _validate_zone(time_zone: object) -> ZoneInfo:
    if isinstance(time_zone, str) and time_zone:
        try:
            return ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # fall through to the uniform message below
    raise CalendarError(
        f"unknown time zone {time_zone!r}: expected an IANA name such as 'Europe/Paris', "
        "'America/New_York' or 'UTC'"
    )


def _validate_closed_dates(closed_dates: object) -> frozenset[date]:
    if not isinstance(closed_dates, Iterable) or isinstance(closed_dates, str):
        raise CalendarError("closed_dates must be a collection of datetime.date values")
    result = frozenset(closed_dates)
    for value in result:
        # datetime is a subclass of date: refuse it, a closed *instant* means nothing here.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise CalendarError(
                f"closed date {value!r} must be a datetime.date (not a datetime or a string)"
            )
    return result


def _merge_touching(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge sorted, non-overlapping intervals that touch end to start."""
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Block:
    """Business intervals of one UTC week [k*WEEK, (k+1)*WEEK), with running totals."""

    __slots__ = ("cum_end", "ends", "starts", "total")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]
        self.cum_end: list[int] = []  # business time from the block start to each end
        running = 0
        for start, end in intervals:
            running += end - start
            self.cum_end.append(running)
        self.total = running

    def upto(self, t: int) -> int:
        """Business time in [block start, t)."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum_end[i] - (end - t if t < end else 0)

    def locate(self, amount: int) -> int:
        """Earliest instant by which ``amount`` (0 < amount <= total) has elapsed."""
        i = bisect_left(self.cum_end, amount)
        return self.ends[i] - (self.cum_end[i] - amount)


class _Schedule:
    """The compiled, cached form of a :class:`Calendar`; all instants in microseconds."""

    __slots__ = (
        "_blocks",
        "_days",
        "always_open",
        "closed_days",
        "closed_sorted",
        "offsets",
        "week",
        "weekly_us",
    )

    def __init__(
        self,
        zone: ZoneInfo,
        weekly_hours: tuple[tuple[tuple[int, int], ...], ...],
        closed_dates: frozenset[date],
    ) -> None:
        self.offsets = _zone_offsets(zone)
        minute = 60 * _US
        self.week = tuple(
            tuple(_merge_touching([(s * minute, e * minute) for s, e in day]))
            for day in weekly_hours
        )
        self.weekly_us = sum(e - s for day in self.week for s, e in day)
        self.closed_days = frozenset(d.toordinal() - _EPOCH_ORDINAL for d in closed_dates)
        self.closed_sorted = sorted(self.closed_days)
        # Open at every instant: business time is plain elapsed time, whatever the offsets do.
        self.always_open = not self.closed_days and all(day == ((0, _DAY),) for day in self.week)
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._blocks: dict[int, _Block] = {}

    # -- materialisation -----------------------------------------------------------------

    def day_intervals(self, day: int) -> tuple[tuple[int, int], ...]:
        """UTC intervals of the instants whose local date is ``day`` (days since 1970-01-01)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        hours = self.week[(day + _EPOCH_WEEKDAY) % 7]
        pieces: list[tuple[int, int]] = []
        if hours and day not in self.closed_days:
            local_midnight = day * _DAY  # naive local time, as if UTC
            # Offsets lie within (-1 day, +1 day), so every instant of this local date is in
            # the window; within each constant-offset piece, local = utc + offset.
            for seg_start, seg_end, offset in self.offsets.segments(
                local_midnight - _DAY, local_midnight + 2 * _DAY
            ):
                base = local_midnight - offset
                for start, end in hours:
                    lo, hi = max(seg_start, base + start), min(seg_end, base + end)
                    if lo < hi:
                        pieces.append((lo, hi))
        result = tuple(_merge_touching(pieces))
        if len(self._days) >= _MAX_CACHED_DAYS:
            self._days.clear()
        self._days[day] = result
        return result

    def block(self, k: int) -> _Block:
        """Business intervals of UTC week ``k``, built from the local dates it can touch."""
        cached = self._blocks.get(k)
        if cached is not None:
            return cached
        lo, hi = k * _WEEK, (k + 1) * _WEEK
        pieces = [
            (max(start, lo), min(end, hi))
            for day in range(7 * k - 1, 7 * k + 8)
            for start, end in self.day_intervals(day)
            if start < hi and end > lo
        ]
        # Sorting matters: where a zone falls back across midnight, instants of the earlier
        # local date come after instants of the later one.
        pieces.sort()
        result = _Block(_merge_touching(pieces))
        if len(self._blocks) >= _MAX_CACHED_BLOCKS:
            self._blocks.clear()
        self._blocks[k] = result
        return result

    def regular_run(self, k: int, limit: int) -> int:
        """How many consecutive weeks from week ``k`` (at most ``limit``) are *regular*.

        A regular week has one UTC offset throughout and no closed local date, so its business
        time is exactly the nominal weekly hours and it can be skipped without building it.
        """
        if limit <= 0:
            return 0
        end = k + limit
        # Week j holds instants of local days 7j-1 .. 7j+7; the first week that can touch the
        # next closed day c is therefore >= (c - 8) // 7 (conservative: may stop early).
        i = bisect_left(self.closed_sorted, 7 * k - 1)
        if i < len(self.closed_sorted):
            end = min(end, (self.closed_sorted[i] - 8) // 7)
        if end <= k:
            return 0
        change = self.offsets.next_transition(k * _WEEK, end * _WEEK)
        if change is not None:
            end = min(end, (change - 1) // _WEEK)
        return max(0, end - k)

    # -- queries -------------------------------------------------------------------------

    def between(self, a: int, b: int) -> int:
        """Business time in [a, b)."""
        if b <= a:
            return 0
        if self.always_open:
            return b - a
        ka, kb = a // _WEEK, b // _WEEK
        first = self.block(ka)
        if ka == kb:
            return first.upto(b) - first.upto(a)
        total = first.total - first.upto(a)
        k = ka + 1
        while k < kb:
            if kb - k > _SKIP_MIN_BLOCKS:
                run = self.regular_run(k, kb - k)
                if run:
                    total += run * self.weekly_us
                    k += run
                    continue
            total += self.block(k).total
            k += 1
        return total + self.block(kb).upto(b)

    def add(self, a: int, amount: int) -> int:
        """Earliest instant t >= a with between(a, t) == amount."""
        if amount <= 0:
            return a
        if self.always_open:
            return a + amount
        k = a // _WEEK
        block = self.block(k)
        wanted = block.upto(a) + amount  # measured from the start of week k
        if wanted <= block.total:
            return block.locate(wanted)
        remaining = wanted - block.total
        k += 1
        while True:
            if remaining > _SKIP_MIN_BLOCKS * self.weekly_us:
                # Skip whole regular weeks but keep remaining > 0, so the answer stays ahead.
                run = self.regular_run(k, (remaining - 1) // self.weekly_us)
                if run:
                    remaining -= run * self.weekly_us
                    k += run
                    continue
            block = self.block(k)
            if remaining <= block.total:
                return block.locate(remaining)
            remaining -= block.total
            k += 1

    def is_open(self, t: int) -> bool:
        if self.always_open:
            return True
        block = self.block(t // _WEEK)
        i = bisect_right(block.starts, t) - 1
        return i >= 0 and t < block.ends[i]

    def next_open(self, t: int) -> int:
        """Earliest business instant >= t."""
        if self.always_open:
            return t
        k = t // _WEEK
        while True:
            block = self.block(k)
            i = bisect_right(block.starts, t) - 1
            if i >= 0 and t < block.ends[i]:
                return t
            if i + 1 < len(block.starts):
                return block.starts[i + 1]
            # Terminates: the calendar has weekly hours and finitely many closed dates.
            k += 1
            t = k * _WEEK


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Business hours of a service, in the local wall-clock time of ``time_zone``.

    ``weekly_hours`` holds 7 entries, Monday first; each is a sequence of half-open
    ``(start, end)`` intervals in minutes since local midnight (0..1440, so an interval may end
    at 24:00).  ``closed_dates`` are local dates on which the service is closed all day.

    Construction validates everything (raising :class:`CalendarError`) and normalises the
    intervals (sorted tuples), so a ``Calendar`` that exists is usable.  Instances are
    immutable and hashable; each carries its own cache of materialised business intervals.
    Prefer :meth:`from_hours` and :meth:`twenty_four_seven` to building the tuples by hand.
    """

    time_zone: str
    weekly_hours: tuple[tuple[tuple[int, int], ...], ...]
    closed_dates: frozenset[date] = frozenset()
    if TYPE_CHECKING:
        # The compiled schedule and its caches live in a plain attribute, not a field, so
        # fields(), asdict(), replace(), equality and hashing only ever see the definition.
        # Type checkers take any annotation here for a field: init=False keeps it out of the
        # constructor they check.
        _schedule: _Schedule = field(init=False)

    def __post_init__(self) -> None:
        zone = _validate_zone(self.time_zone)
        week = _validate_week(self.weekly_hours)
        closed = _validate_closed_dates(self.closed_dates)
        object.__setattr__(self, "weekly_hours", week)
        object.__setattr__(self, "closed_dates", closed)
        object.__setattr__(self, "_schedule", _Schedule(zone, week, closed))

    @classmethod
    def from_hours(
        cls,
        time_zone: str,
        hours: Mapping[str, Iterable[str | tuple[str, str]]],
        closed_dates: Iterable[date] = (),
    ) -> Calendar:
        """Build a calendar from readable hours.

        ``hours`` maps weekday keys (``"mon"`` .. ``"sun"``) to intervals written
        ``"08:00-12:00"`` or ``("08:00", "12:00")``; missing weekdays are closed.  Example:
        ``Calendar.from_hours("Europe/Paris", {"mon": ["08:00-12:00", "13:00-17:00"]})``.
        """
        unknown = sorted(set(hours) - set(WEEKDAYS), key=str)
        if unknown:
            raise CalendarError(
                f"unknown weekday key(s) {', '.join(map(repr, unknown))}: expected some of "
                f"{', '.join(WEEKDAYS)}"
            )
        if isinstance(closed_dates, str):
            raise CalendarError("closed_dates must be a collection of datetime.date values")
        week = tuple(
            tuple(parse_interval(spec) for spec in _as_specs(day, hours.get(day, ())))
            for day in WEEKDAYS
        )
        return cls(time_zone, week, frozenset(closed_dates))

    @classmethod
    def twenty_four_seven(
        cls, time_zone: str = "UTC", closed_dates: Iterable[date] = ()
    ) -> Calendar:
        """A calendar open at every instant (every weekday 00:00-24:00).

        With closed dates, the service is closed on those *local* dates of ``time_zone``.
        """
        return cls(time_zone, (((0, MINUTES_PER_DAY),),) * 7, frozenset(closed_dates))

    @property
    def is_24x7(self) -> bool:
        """True when the calendar is open at every instant (so business time = real time)."""
        return self._schedule.always_open

    @property
    def weekly_business_seconds(self) -> int:
        """Nominal business seconds in a week without closed dates or offset changes."""
        return self._schedule.weekly_us // _US


def _as_specs(day: str, specs: object) -> Iterable[str | tuple[str, str]]:
    # A bare string would otherwise be iterated character by character.
    if isinstance(specs, str):
        return (specs,)
    if not isinstance(specs, Iterable):
        raise CalendarError(f"hours for {day} must be a list of 'HH:MM-HH:MM' intervals")
    return specs


# --------------------------------------------------------------------------------------------
# Business-time arithmetic (public)
# --------------------------------------------------------------------------------------------


def _to_us(value: datetime, name: str) -> int:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return (value - _EPOCH) // _ONE_US


def _from_us(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Whole seconds of business time in ``[start, end)``; 0 when ``end <= start``.

    Computed exactly to the microsecond, then floored to whole seconds.
    """
    return calendar._schedule.between(_to_us(start, "start"), _to_us(end, "end")) // _US


def add_business_seconds(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The due time: the earliest instant by which ``seconds`` of business time have elapsed.

    Counting starts at ``start`` (whether or not it is inside business hours).  ``seconds ==
    0`` returns ``start`` itself.  When the target is reached exactly at closing time, the
    closing instant is returned (not the next opening).  The result is an aware UTC datetime.
    """
    if type(seconds) is not int or seconds < 0:
        raise ValueError(f"seconds must be a non-negative integer, got {seconds!r}")
    t = _to_us(start, "start")
    return _from_us(calendar._schedule.add(t, seconds * _US))


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether ``at`` is business time (intervals are half-open: closing time is closed)."""
    return calendar._schedule.is_open(_to_us(at, "at"))


def next_open(calendar: Calendar, at: datetime) -> datetime:
    """The earliest business instant at or after ``at``, as an aware UTC datetime."""
    return _from_us(calendar._schedule.next_open(_to_us(at, "at")))
