"""Time-zone offsets: the changes of a zone's UTC offset, found by sampling and cached."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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
