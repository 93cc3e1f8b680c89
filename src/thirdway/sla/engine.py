"""Business-time arithmetic for SLA clocks.

This module is deliberately free of Django and of the rest of the project: it only uses the
standard library, so the web app, the dispatch simulator and offline scripts can all call it
with plain dataclasses.

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

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    "next_open",
    "parse_hhmm",
    "parse_interval",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys accepted by :meth:`Calendar.from_hours`, Monday first (``date.weekday()``)."""

MINUTES_PER_DAY = 24 * 60

_US = 1_000_000  # microseconds per second: the internal unit
_DAY = 86_400 * _US
_WEEK = 7 * _DAY
_ONE_US = timedelta(microseconds=1)
_ONE_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; local day number d has weekday (d + 3) % 7

# Offset changes are discovered by sampling the zone.  tzdata (1900 to date) never has two
# offset changes less than ~4 days apart, so 6-hour samples cannot miss a change that is
# undone before the next sample; the exact second is then found by bisection.
_SAMPLE_STEP_S = 6 * 3600
_CHUNK_S = 52 * 7 * 86_400  # transitions are discovered and cached 52 weeks at a time

# Below this many weeks, walking cached weekly blocks is cheaper than looking for a run of
# regular weeks to skip.
_SKIP_MIN_BLOCKS = 8

# Bounds on the per-calendar caches: a long-running process answering queries all over the
# calendar must not grow without limit (a cleared cache is simply rebuilt on demand).
_MAX_CACHED_DAYS = 100_000
_MAX_CACHED_BLOCKS = 15_000

_HHMM = re.compile(r"(\d{2}):(\d{2})")


class CalendarError(ValueError):
    """A calendar definition is invalid; the message says what is wrong and what is allowed."""


class ClockError(ValueError):
    """An SLA clock or pause is invalid."""


class EscalationError(ValueError):
    """Escalation steps are invalid (out of range, out of order or duplicated)."""


# --------------------------------------------------------------------------------------------
# Parsing and validation of calendar definitions
# --------------------------------------------------------------------------------------------


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


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _fmt_interval(interval: tuple[int, int]) -> str:
    return f"{_fmt_minute(interval[0])}-{_fmt_minute(interval[1])}"


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


# --------------------------------------------------------------------------------------------
# Time-zone offsets
# --------------------------------------------------------------------------------------------


def _utcoffset_s(zone: ZoneInfo, t_s: int) -> int:
    """UTC offset in seconds of ``zone`` at the instant ``t_s`` (seconds since the epoch)."""
    offset = datetime.fromtimestamp(t_s, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return offset // _ONE_SECOND


class _ZoneOffsets:
    """Offset changes of one zone, discovered lazily and cached per 52-week chunk.

    ``zoneinfo`` has no public way to list transitions, so they are found by sampling.  Chunk
    ``n`` holds the changes at instants T (whole seconds) with ``n*CHUNK < T <= (n+1)*CHUNK``;
    a change at T means the new offset applies from T inclusive.
    """

    __slots__ = ("_chunks", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._chunks: dict[int, tuple[list[int], list[int]]] = {}

    def offset_us(self, t_us: int) -> int:
        # Offsets only change on whole seconds, so flooring to the second is exact.
        return _utcoffset_s(self.zone, t_us // _US) * _US

    def _first_change(self, lo: int, hi: int, old: int) -> int:
        """Smallest second in (lo, hi] whose offset differs from ``old`` (which holds at lo)."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _utcoffset_s(self.zone, mid) == old:
                lo = mid
            else:
                hi = mid
        return hi

    def _chunk(self, n: int) -> tuple[list[int], list[int]]:
        cached = self._chunks.get(n)
        if cached is not None:
            return cached
        times: list[int] = []
        offsets: list[int] = []
        t0 = n * _CHUNK_S
        end = t0 + _CHUNK_S
        o0 = _utcoffset_s(self.zone, t0)
        while t0 < end:
            t1 = min(t0 + _SAMPLE_STEP_S, end)
            o1 = _utcoffset_s(self.zone, t1)
            if o1 != o0:
                times.append(self._first_change(t0, t1, o0) * _US)
                offsets.append(o1 * _US)
            t0, o0 = t1, o1
        self._chunks[n] = (times, offsets)
        return times, offsets

    def _chunk_range(self, a_us: int, b_us: int) -> range:
        return range(a_us // _US // _CHUNK_S, b_us // _US // _CHUNK_S + 1)

    def transitions(self, a_us: int, b_us: int) -> list[tuple[int, int]]:
        """(instant, new offset) of every offset change strictly inside (a, b), in order."""
        found: list[tuple[int, int]] = []
        for n in self._chunk_range(a_us, b_us):
            times, offsets = self._chunk(n)
            i, j = bisect_right(times, a_us), bisect_left(times, b_us)
            found.extend(zip(times[i:j], offsets[i:j], strict=True))
        return found

    def next_transition(self, a_us: int, b_us: int) -> int | None:
        """First offset change strictly inside (a, b), or None; stops at the first found."""
        for n in self._chunk_range(a_us, b_us):
            times, _ = self._chunk(n)
            i = bisect_right(times, a_us)
            if i < len(times):
                return times[i] if times[i] < b_us else None
        return None

    def segments(self, a_us: int, b_us: int) -> list[tuple[int, int, int]]:
        """Split [a, b) into (start, end, offset) pieces of constant UTC offset."""
        pieces: list[tuple[int, int, int]] = []
        start, offset = a_us, self.offset_us(a_us)
        for instant, new_offset in self.transitions(a_us, b_us):
            pieces.append((start, instant, offset))
            start, offset = instant, new_offset
        pieces.append((start, b_us, offset))
        return pieces


_ZONE_OFFSETS: dict[str, _ZoneOffsets] = {}


def _zone_offsets(zone: ZoneInfo) -> _ZoneOffsets:
    # Shared by every calendar in the same zone: transitions do not depend on opening hours.
    offsets = _ZONE_OFFSETS.get(zone.key)
    if offsets is None:
        offsets = _ZONE_OFFSETS[zone.key] = _ZoneOffsets(zone)
    return offsets


# --------------------------------------------------------------------------------------------
# Compiled schedule: business time as sorted UTC intervals
# --------------------------------------------------------------------------------------------


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
        _schedule: _Schedule

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


# --------------------------------------------------------------------------------------------
# SLA clocks
# --------------------------------------------------------------------------------------------


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
        # the clock repeatedly stays cheap.
        _start_us: int
        _pause_spans: tuple[tuple[int, int | None], ...]

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


# --------------------------------------------------------------------------------------------
# Escalations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Fire ``action`` once ``percent`` % of the target has elapsed (100 = at breach)."""

    percent: int
    action: str

    def __post_init__(self) -> None:
        if type(self.percent) is not int or not 1 <= self.percent <= 100:
            raise EscalationError(
                f"escalation percent {self.percent!r} is out of range: expected an integer "
                "from 1 to 100 (100 fires at the breach; later steps are not supported)"
            )
        if not isinstance(self.action, str) or not self.action.strip():
            raise EscalationError(
                f"escalation action must be a non-empty string, got {self.action!r}"
            )


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Ordered escalation steps; percents must be strictly increasing."""

    steps: tuple[EscalationStep, ...]

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, EscalationStep):
                raise EscalationError(f"escalation steps must be EscalationStep, got {step!r}")
        for earlier, later in pairwise(steps):
            if later.percent <= earlier.percent:
                raise EscalationError(
                    f"escalation steps must have strictly increasing percents: "
                    f"{later.percent}% ({later.action!r}) comes after {earlier.percent}% "
                    f"({earlier.action!r})"
                )
        object.__setattr__(self, "steps", steps)

    def due(self, state: ClockState, fired: Collection[int] = ()) -> tuple[EscalationStep, ...]:
        """Steps reached by ``state`` whose percent is not in ``fired``, in order."""
        # Integer comparison: percent% of the target is reached iff 100*elapsed >= p*target.
        reached = 100 * state.elapsed_seconds
        target = state.target_seconds
        return tuple(
            step
            for step in self.steps
            if step.percent * target <= reached and step.percent not in fired
        )


def due_escalations(
    state: ClockState,
    steps: EscalationPolicy | Sequence[EscalationStep],
    fired: Collection[int] = (),
) -> tuple[EscalationStep, ...]:
    """The escalation steps to fire now, in order, never one whose percent is in ``fired``.

    A clock that jumped past several thresholds since the last evaluation gets all of them.
    Callers persist the percents they fire and pass them back as ``fired``, which makes
    repeated evaluation idempotent.  A plain sequence of steps is validated like a policy.
    """
    policy = steps if isinstance(steps, EscalationPolicy) else EscalationPolicy(tuple(steps))
    return policy.due(state, fired)
