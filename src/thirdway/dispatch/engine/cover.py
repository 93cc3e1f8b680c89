"""Partners' cover (shifts, on-call turns, absences) in UTC seconds, and the
:class:`PartnerIndex` that holds the whole pool's cover and columns for fast decisions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from thirdway.dispatch.engine.inputs import (
    DEFAULT_HORIZON_DAYS,
    DESK_PRACTICE,
    PRIORITIES,
    WEEKDAYS,
    Flags,
    Floats,
    Ints,
    LatLon,
    PartnerId,
    PartnerState,
    Rows,
    Span,
    TicketNeed,
    Visit,
    _utc,
    check_aware,
    epoch,
    id_key,
)
from thirdway.dispatch.engine.terms import load_cost, scarcity_cost
from thirdway.distance import haversine_from_radians_km
from thirdway.weekly_hours import parse_shift, wall_clock

_DAY_S = 86_400
_NEVER_BUSY = -(1 << 62)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sort and join overlapping or touching spans: one interval per stretch of cover."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(start, end) for start, end in out]


def _subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """``spans`` minus ``holes``; both sorted and disjoint."""
    out: list[Span] = []
    first = 0
    for start, end in spans:
        while first < len(holes) and holes[first][1] <= start:
            first += 1
        cursor, k = start, first
        while k < len(holes) and holes[k][0] < end:
            if holes[k][0] > cursor:
                out.append((cursor, holes[k][0]))
            cursor = max(cursor, holes[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _clip(spans: Iterable[Span], lo: int, hi: int) -> list[Span]:
    return [(max(s, lo), min(e, hi)) for s, e in spans if e > lo and s < hi]


@lru_cache(maxsize=1 << 16)
def _local_epoch(day: date, minute: int, time_zone: str) -> int:
    """Epoch of a local wall-clock time; cached because most partners share zones and hours."""
    return epoch(wall_clock(day, minute, ZoneInfo(time_zone)))


def _weekly_shifts(partner: PartnerState, lo: int, hi: int) -> list[Span]:
    """The partner's local weekly hours as UTC spans covering [lo, hi]; DST-aware."""
    zone, tz = partner.time_zone, ZoneInfo(partner.time_zone)
    hours = {
        WEEKDAYS.index(day): [parse_shift(day, a, b) for a, b in spans]
        for day, spans in partner.working_hours.items()
    }
    # Start a day early: a shift that began yesterday (or overnight) may still be running.
    day = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi, tz).date()
    out: list[Span] = []
    while day <= last:
        for start, end in hours.get(day.weekday(), ()):  # an overnight end is past 24:00
            out.append((_local_epoch(day, start, zone), _local_epoch(day, end, zone)))
        day += timedelta(days=1)
    return out


def partner_cover(
    partner: PartnerState, lo: int, hi: int
) -> tuple[list[Span], list[Span], list[Span]]:
    """(shifts, on-call, absences) within [lo, hi], with absences cut out of the cover."""
    absences = merge_spans((epoch(a), epoch(b)) for a, b in partner.absences)
    shifts = _subtract(merge_spans(_weekly_shifts(partner, lo, hi)), absences)
    calls = _subtract(merge_spans((epoch(a), epoch(b)) for a, b in partner.on_call), absences)
    return _clip(shifts, lo, hi), _clip(calls, lo, hi), _clip(absences, lo, hi)


@dataclass(frozen=True, slots=True)
class _IntervalPack:
    """Every partner's sorted, disjoint spans in one flat array, searchable all at once.

    ``keys`` is ``row * stride + end``, which is sorted across the whole pool, so a single
    ``searchsorted`` finds each partner's first span that ends after a given time.
    """

    starts: Ints
    ends: Ints
    keys: Ints
    stops: Ints
    base: Ints

    @classmethod
    def build(cls, rows: Sequence[list[Span]], origin: int, stride: int) -> _IntervalPack:
        counts = np.array([len(row) for row in rows], dtype=np.int64)
        flat = np.array([span for row in rows for span in row], dtype=np.int64).reshape(-1, 2)
        flat -= origin
        base = np.arange(len(rows), dtype=np.int64) * stride
        keys = np.repeat(base, counts) + flat[:, 1]
        return cls(flat[:, 0].copy(), flat[:, 1].copy(), keys, np.cumsum(counts), base)

    def next_after(self, t: int) -> tuple[Floats, Floats]:
        """Per partner, the start (never before t) and end of the first span ending after t.

        Both are ``inf`` when the partner has no such span in the horizon.
        """
        return self.next_after_rows(None, t)

    def next_after_rows(self, rows: Rows | None, t: int | Ints) -> tuple[Floats, Floats]:
        """:meth:`next_after` for partners ``rows`` (all when None), each from its own t."""
        base = self.base if rows is None else self.base[rows]
        if not len(self.keys):
            none = np.full(len(base), np.inf)
            return none, none.copy()
        k = np.searchsorted(self.keys, base + t, side="right")
        has = k < (self.stops if rows is None else self.stops[rows])
        k = np.minimum(k, len(self.keys) - 1)
        start = np.where(has, np.maximum(self.starts[k], t), np.inf)
        return start, np.where(has, self.ends[k], np.inf)


def _scarce_skills(levels: Mapping[str, Ints]) -> tuple[tuple[Floats, Any], tuple[Floats, Any]]:
    """Per partner, the scarcity of their scarcest skill and its practice, and of the next
    (so a ticket of the scarcest skill itself looks at the next one)."""
    n = len(next(iter(levels.values())))
    ranked = [
        (np.zeros(n), np.full(n, "", dtype=object)),
        (np.zeros(n), np.full(n, "", dtype=object)),
    ]
    for practice, level in levels.items():
        if practice == DESK_PRACTICE:
            continue
        holds = level > 0
        cost = scarcity_cost(int(holds.sum()))
        if cost == 0.0:
            continue
        value = np.where(holds, cost, 0.0)
        (top, top_practice), (second, second_practice) = ranked
        beats_top = value > top
        beats_second = ~beats_top & (value > second)
        second = np.where(beats_top, top, np.where(beats_second, value, second))
        second_practice = np.where(
            beats_top, top_practice, np.where(beats_second, practice, second_practice)
        )
        top = np.where(beats_top, value, top)
        top_practice = np.where(beats_top, practice, top_practice)
        ranked = [(top, top_practice), (second, second_practice)]
    return ranked[0], ranked[1]


class PartnerIndex:
    """Column-oriented, immutable snapshot of the partner pool for fast repeated decisions.

    Partners are sorted by id, so array position order is id order (the tie-breaker).
    Calendars are expanded for ``days`` days from ``start``; decisions must be taken inside
    that horizon, and cover beyond it counts as none. Rebuild when partners' calendars
    change; use :meth:`with_loads` for the frequent load changes.
    """

    __slots__ = (
        "_absences",
        "_at_capacity",
        "_away",
        "_by_id",
        "_calls",
        "_capacity",
        "_clock_memo",
        "_cos_phi",
        "_free",
        "_from",
        "_is_desk",
        "_lambda",
        "_languages",
        "_levels",
        "_load",
        "_load_share",
        "_near",
        "_phi",
        "_radius",
        "_scarce",
        "_shifts",
        "end_s",
        "origin_s",
        "partners",
    )

    def __init__(
        self,
        partners: Iterable[PartnerState],
        *,
        start: datetime,
        days: int = DEFAULT_HORIZON_DAYS,
    ) -> None:
        check_aware(start, "index start")
        if days < 1:
            raise ValueError("the index must cover at least one day")
        self.partners: tuple[PartnerState, ...] = tuple(
            sorted(partners, key=lambda p: id_key(p.id))
        )
        self._by_id = {p.id: row for row, p in enumerate(self.partners)}
        if len(self._by_id) != len(self.partners):
            raise ValueError("partner ids must be unique")
        self.origin_s = epoch(start)
        self.end_s = self.origin_s + days * _DAY_S
        covers = [partner_cover(p, self.origin_s, self.end_s) for p in self.partners]
        stride = self.end_s - self.origin_s + 1
        self._shifts = _IntervalPack.build([c[0] for c in covers], self.origin_s, stride)
        self._calls = _IntervalPack.build([c[1] for c in covers], self.origin_s, stride)
        self._absences = _IntervalPack.build([c[2] for c in covers], self.origin_s, stride)
        practices = sorted({name for p in self.partners for name in p.skills} | {DESK_PRACTICE})
        self._levels = {
            name: np.array([p.level_in(name) for p in self.partners], dtype=np.int64)
            for name in practices
        }
        self._scarce = _scarce_skills(self._levels)
        languages = sorted({lang for p in self.partners for lang in p.languages})
        self._languages = {
            lang: np.array([lang in p.languages for p in self.partners], dtype=bool)
            for lang in languages
        }
        self._phi = np.radians([p.home_lat for p in self.partners])
        self._lambda = np.radians([p.home_lon for p in self.partners])
        self._cos_phi = np.cos(self._phi)
        self._radius = np.array([p.radius_km for p in self.partners], dtype=float)
        self._capacity = np.array([p.capacity for p in self.partners], dtype=np.int64)
        self._set_load(np.array([p.open_load for p in self.partners], dtype=np.int64))
        self._free = np.full((len(PRIORITIES), len(self.partners)), _NEVER_BUSY, np.int64)
        # Where each partner drives from, per priority, when not from home (``drive_from``):
        # flags, and latitude, longitude (radians) and cos(latitude) of the visit.
        self._away = np.zeros((len(PRIORITIES), len(self.partners)), dtype=bool)
        self._from = np.zeros((3, len(PRIORITIES), len(self.partners)))
        for row, partner in enumerate(self.partners):
            if partner.free_at:
                self._free[:, row] = self._free_column(partner)
            if partner.drive_from:
                self._set_drive_from(row, partner)
        self._is_desk = np.array([p.kind == "desk" for p in self.partners], dtype=bool)
        self._clock_memo: _Clock | None = None
        # Each partner's own area (``area_load``), found when first asked; homes and radii
        # never change, so copies with other loads share it.
        self._near: dict[int, Rows] = {}

    @classmethod
    def for_tickets(
        cls, partners: Iterable[PartnerState], tickets: Iterable[TicketNeed], now: datetime
    ) -> PartnerIndex:
        """An index starting at ``now`` long enough to see every ticket's response target."""
        latest = max((epoch(t.response_due_at) for t in tickets), default=epoch(now))
        days = max(DEFAULT_HORIZON_DAYS, math.ceil((latest - epoch(now)) / _DAY_S) + 1)
        return cls(partners, start=now, days=days)

    def __len__(self) -> int:
        return len(self.partners)

    def row(self, partner_id: PartnerId) -> int:
        """Array position of a partner."""
        return self._by_id[partner_id]

    def covers(self, now: datetime) -> bool:
        """Whether decisions at ``now`` fall inside this index's calendar horizon."""
        return self.origin_s <= epoch(now) <= self.end_s

    def with_loads(
        self,
        loads: Mapping[PartnerId, int],
        free_at: Mapping[PartnerId, Mapping[str, datetime]] | None = None,
        drive_from: Mapping[PartnerId, Mapping[str, Visit]] | None = None,
    ) -> PartnerIndex:
        """A copy with some partners' open load (and ``free_at``, ``drive_from``) replaced;
        calendars are shared, not rebuilt."""
        clone = object.__new__(PartnerIndex)
        for name in PartnerIndex.__slots__:
            object.__setattr__(clone, name, getattr(self, name))
        load = self._load.copy()
        clone._free = self._free.copy() if free_at else self._free
        if drive_from:
            clone._away, clone._from = self._away.copy(), self._from.copy()
        partners = list(self.partners)
        for partner_id in {*loads, *(free_at or {}), *(drive_from or {})}:
            row = self._by_id[partner_id]
            changes: dict[str, object] = {}
            if partner_id in loads:
                changes["open_load"] = load[row] = loads[partner_id]
            if free_at and partner_id in free_at:
                changes["free_at"] = free_at[partner_id]
            if drive_from and partner_id in drive_from:
                changes["drive_from"] = drive_from[partner_id]
            partners[row] = _replace(partners[row], changes)  # validates the values
            if "free_at" in changes:
                clone._free[:, row] = self._free_column(partners[row])
            if "drive_from" in changes:
                clone._set_drive_from(row, partners[row])
        clone.partners = tuple(partners)
        clone._set_load(load)
        return clone

    def _set_drive_from(self, row: int, partner: PartnerState) -> None:
        self._away[:, row] = False
        for priority, visit in partner.drive_from.items():
            k = PRIORITIES.index(priority)
            phi, lam = np.radians(visit.location)
            self._away[k, row] = True
            self._from[:, k, row] = (phi, lam, np.cos(phi))

    def _free_column(self, partner: PartnerState) -> Ints:
        """Per priority, when the partner is through their work in hand (index seconds)."""
        free = partner.free_at
        return np.array(
            [epoch(free[p]) - self.origin_s if p in free else _NEVER_BUSY for p in PRIORITIES],
            dtype=np.int64,
        )

    def _set_load(self, load: Ints) -> None:
        # The ticket-independent parts of the capacity filter and the load term.
        self._load = load
        self._at_capacity = load >= self._capacity
        self._load_share = load_cost(load, self._capacity)

    def _clock(self, now: int) -> _Clock:
        """Cover as seen from ``now`` (seconds since origin), remembered for the next ticket."""
        memo = self._clock_memo
        if memo is not None and memo.now == now:
            return memo
        shift_start, shift_end = self._shifts.next_after(now)
        call_start, call_end = self._calls.next_after(now)
        absence_start, _ = self._absences.next_after(now)
        memo = _Clock(now, shift_start, shift_end, call_start, call_end, absence_start <= now)
        self._clock_memo = memo
        return memo

    @property
    def capacity(self) -> Ints:
        """Every partner's capacity, in index order."""
        return self._capacity

    @property
    def load(self) -> Ints:
        """Every partner's open load, in index order."""
        return self._load

    def distances_km(self, location: LatLon, rows: Rows | None = None) -> Floats:
        """Great-circle distance from the home of each partner ``rows`` (all when None)."""
        phi, lam, cos_phi = self._phi, self._lambda, self._cos_phi
        if rows is not None:
            phi, lam, cos_phi = phi[rows], lam[rows], cos_phi[rows]
        return haversine_from_radians_km(phi, lam, cos_phi, *location)

    def drives_km(
        self, location: LatLon, priority: str, rows: Rows | None = None, home: Floats | None = None
    ) -> Floats:
        """Distance to ``location`` from where each partner ``rows`` (all when None) will be
        when they would start a ticket of ``priority``: their ``drive_from`` visit, else home.
        ``home`` is :meth:`distances_km`'s answer for the same rows, when already known."""
        k = PRIORITIES.index(priority)
        away = self._away[k] if rows is None else self._away[k][rows]
        if home is None:
            home = self.distances_km(location, rows)
        if not away.any():
            return home
        at = np.flatnonzero(away)
        where = at if rows is None else rows[at]
        phi, lam, cos_phi = self._from[:, k, where]
        drive = home.copy()
        drive[at] = haversine_from_radians_km(phi, lam, cos_phi, *location)
        return drive

    def area_load(self, rows: Rows) -> Floats:
        """Per partner ``rows``: how busy their own area is, the mean share of capacity in
        use of the partners whose home lies within their radius of theirs (themselves too)."""
        shares = []
        for row in rows.tolist():
            near = self._near.get(row)
            if near is None:
                home = self.partners[row].home_lat, self.partners[row].home_lon
                near = self._near[row] = np.flatnonzero(
                    self.distances_km(home) <= self._radius[row]
                )
            shares.append(float(self._load_share[near].mean()))
        return np.array(shares)

    def levels(self, practice: str) -> Ints:
        return self._levels.get(practice, np.zeros(len(self), dtype=np.int64))

    def scarcity(self, practice: str) -> Floats:
        """Per partner, the cost of giving them ``practice`` work: how scarce the scarcest
        other skill they hold is (:func:`scarcity_cost`; 0 for most partners)."""
        (top, top_practice), (second, _) = self._scarce
        return np.where(top_practice == practice, second, top)

    def speaks(self, language: str) -> Flags:
        return self._languages.get(language, np.zeros(len(self), dtype=bool))


def _replace(partner: PartnerState, changes: Mapping[str, object]) -> PartnerState:
    values = {item.name: getattr(partner, item.name) for item in fields(partner)}
    return PartnerState(**{**values, **changes})


def as_index(
    partners: PartnerIndex | Iterable[PartnerState], tickets: Iterable[TicketNeed], now: datetime
) -> PartnerIndex:
    index = (
        partners
        if isinstance(partners, PartnerIndex)
        else PartnerIndex.for_tickets(partners, tickets, now)
    )
    if not index.covers(now):
        raise ValueError(
            f"partner index covers {_utc(index.origin_s)} to {_utc(index.end_s)}, "
            f"not {now}; rebuild it"
        )
    return index


@dataclass(frozen=True, slots=True)
class _Clock:
    """Every partner's next shift, on-call cover and absence as seen from one moment.

    It depends only on the moment, not on the ticket, so a queue decided at one time
    shares it (see :meth:`PartnerIndex._clock`).
    """

    now: int
    shift_start: Floats
    shift_end: Floats
    call_start: Floats
    call_end: Floats
    absent_now: Flags
