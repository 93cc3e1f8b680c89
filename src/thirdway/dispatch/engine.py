"""Dispatch engine: decide which partner of the cooperative should take a ticket.

The engine is deliberately free of Django and of the rest of thirdway so that the web app
and the simulator can both feed it plain, frozen dataclasses. A decision has three steps:

1. Hard filters (skill, availability within the response target, on-site radius, capacity,
   language). Each can say in one line why it rejected somebody.
2. A weighted sum of cost terms for everyone left; lower is better (see :class:`Weights`).
3. A deterministic order: escalation bypasses last, then the ticket's preferred tier (desk
   work goes to the desk first), then total cost, then partner id.

Speed comes from :class:`PartnerIndex`, a column-oriented snapshot of the partner pool:
numpy arrays plus every partner's shift and on-call intervals expanded from their local
weekly hours into UTC seconds, so one ``searchsorted`` answers "when can each partner start?"
for the whole pool. Build it once and reuse it for many decisions.

Joint assignment of a queue and placing on-site visits live in
:mod:`thirdway.dispatch.optimiser`.

Times inside the engine are whole seconds since the Unix epoch (or since the index origin);
whole seconds keep the interval arithmetic exact and the results reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import numpy as np

PartnerId = int | str
TicketId = int | str
LatLon = tuple[float, float]
Span = tuple[int, int]
Num = float | np.ndarray

PRIORITIES = ("P1", "P2", "P3", "P4")
PARTNER_KINDS = ("partner", "associate", "desk")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FILTERS = ("skill", "availability", "radius", "capacity", "language")
TERMS = ("sla_slack", "skill_fit", "travel", "load", "continuity")
DESK_PRACTICE = "desk"
MAX_LEVEL = 5
# Escalation may pull in partners this good at the practice, whatever their calendar says.
EXPERT_LEVEL = 4
# Desk staff are qualified for desk work without having to list it as a skill.
DESK_KIND_LEVEL = 3
# Floor for the SLA budget so an overdue ticket does not divide by zero or flip signs.
MIN_RESPONSE_BUDGET_S = 60
DEFAULT_HORIZON_DAYS = 14
DEFAULT_TRAVEL_SPEED_KMH = 40.0
EARTH_RADIUS_KM = 6371.0088
_DAY_S = 86_400
_COVER_NAMES = ("none", "shift", "on_call", "escalated")
_NEVER_BUSY = -(1 << 62)
_MARK_IS_LEAD = np.array([False, False, True])
_MARK_IS_RECENT = np.array([False, True, False])


# --------------------------------------------------------------------------- inputs


def _check_aware(value: object, what: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


def _epoch(value: datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return math.floor(value.timestamp())


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _minutes(text: str) -> int:
    """Minutes after midnight for "HH:MM"; "24:00" is allowed as an end of day."""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"working hours must look like 'HH:MM', got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


def _spans(values: Iterable[tuple[datetime, datetime]], what: str) -> tuple:
    spans = tuple((start, end) for start, end in values)
    for start, end in spans:
        _check_aware(start, f"{what} start")
        _check_aware(end, f"{what} end")
        if end <= start:
            raise ValueError(f"{what} must end after it starts: {start} - {end}")
    return spans


def _id_key(value: PartnerId) -> tuple[int, int, str]:
    """Sort key that orders int ids numerically and string ids lexically, never mixed."""
    if isinstance(value, int):
        return (0, value, "")
    return (1, 0, str(value))


@dataclass(frozen=True, slots=True)
class TicketNeed:
    """What a ticket needs from whoever takes it.

    ``desk_first`` marks work the service desk resolves (typically P4 service requests
    without a visit); tickets of the ``"desk"`` practice are desk work too. ``escalate``
    lets experts of the practice (level >= 4) bypass the availability filter, absences
    included; the decision records every such bypass. ``visit_window`` is not used for
    ranking; pass it to :func:`thirdway.dispatch.optimiser.place_visit`.
    """

    id: TicketId
    practice: str
    required_level: int
    priority: str
    created_at: datetime
    response_due_at: datetime
    resolution_due_at: datetime
    needs_onsite: bool = False
    onsite_location: LatLon | None = None
    visit_window: tuple[datetime, datetime] | None = None
    client_lead_partner_id: PartnerId | None = None
    recent_partner_ids: frozenset[PartnerId] = frozenset()
    desk_first: bool = False
    escalate: bool = False
    language: str | None = None

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {self.priority!r}")
        if not 1 <= self.required_level <= MAX_LEVEL:
            raise ValueError(f"required_level must be 1-{MAX_LEVEL}")
        for name in ("created_at", "response_due_at", "resolution_due_at"):
            _check_aware(getattr(self, name), name)
        if self.needs_onsite and self.onsite_location is None:
            raise ValueError("an on-site ticket needs an onsite_location")
        if self.visit_window is not None:
            _spans([self.visit_window], "visit window")
        object.__setattr__(self, "recent_partner_ids", frozenset(self.recent_partner_ids))

    @property
    def desk_tier(self) -> bool:
        """True when desk-kind partners should be preferred for this ticket."""
        return self.desk_first or self.practice == DESK_PRACTICE


@dataclass(frozen=True, slots=True)
class PartnerState:
    """A partner as the dispatcher sees them right now.

    ``working_hours`` maps "mon".."sun" to ("HH:MM", "HH:MM") spans in the partner's own
    ``time_zone``; an end at or before the start runs past midnight. ``absences`` and
    ``on_call`` are (start, end) pairs of aware datetimes; an absence wins over both shifts
    and on-call cover.

    ``free_at`` says, per priority, when the partner is expected to be through the work in
    hand that comes before a new ticket of that priority (what they are doing now, plus
    what they hold of that priority or a more urgent one). A missing priority, or a time
    already past, means they can start as soon as they are covered. Without it, a partner
    busy for hours would look available whenever they are on shift.
    """

    id: PartnerId
    name: str
    kind: str
    skills: Mapping[str, int]
    home_lat: float
    home_lon: float
    radius_km: float
    time_zone: str
    working_hours: Mapping[str, Sequence[tuple[str, str]]]
    absences: tuple[tuple[datetime, datetime], ...] = ()
    on_call: tuple[tuple[datetime, datetime], ...] = ()
    open_load: int = 0
    capacity: int = 0
    languages: frozenset[str] = frozenset()
    free_at: Mapping[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PARTNER_KINDS:
            raise ValueError(f"kind must be one of {PARTNER_KINDS}, got {self.kind!r}")
        for practice, level in self.skills.items():
            if not 1 <= level <= MAX_LEVEL:
                raise ValueError(f"{practice} level must be 1-{MAX_LEVEL}, got {level}")
        try:
            ZoneInfo(self.time_zone)
        except (KeyError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        hours = {
            day: tuple(tuple(span) for span in spans) for day, spans in self.working_hours.items()
        }
        for day, spans in hours.items():
            if day not in WEEKDAYS:
                raise ValueError(f"working hours day must be one of {WEEKDAYS}, got {day!r}")
            for start, end in spans:
                if _minutes(start) >= 24 * 60 or _minutes(start) == _minutes(end):
                    raise ValueError(f"empty or invalid shift {start}-{end} on {day}")
        if not (-90 <= self.home_lat <= 90 and -180 <= self.home_lon <= 180):
            raise ValueError("home location must be a valid latitude/longitude")
        if self.radius_km < 0 or self.open_load < 0 or self.capacity < 0:
            raise ValueError("radius, load and capacity cannot be negative")
        object.__setattr__(self, "skills", dict(self.skills))
        object.__setattr__(self, "working_hours", hours)
        object.__setattr__(self, "absences", _spans(self.absences, "absence"))
        object.__setattr__(self, "on_call", _spans(self.on_call, "on-call period"))
        object.__setattr__(self, "languages", frozenset(self.languages))
        for priority, moment in self.free_at.items():
            if priority not in PRIORITIES:
                raise ValueError(f"free_at keys must be priorities {PRIORITIES}, got {priority!r}")
            _check_aware(moment, f"free_at[{priority}]")
        object.__setattr__(self, "free_at", dict(self.free_at))

    def level_in(self, practice: str) -> int:
        """The partner's level in ``practice``, 0 when they do not practise it."""
        level = self.skills.get(practice, 0)
        if practice == DESK_PRACTICE and self.kind == "desk":
            return max(level, DESK_KIND_LEVEL)
        return level


@dataclass(frozen=True, slots=True)
class Weights:
    """Cost weights (lower total is better) and the two constants of the cost model.

    Every term is scaled so that 1.0 is "as bad as it normally gets", so a weight reads as
    "what the worst case of this term is worth":

    - ``sla_slack`` 3.0: share of the remaining response time spent before the partner can
      start (0 = can start now, 1 = starts at the due time). The SLA matters most.
    - ``skill_fit`` 0.5: over-qualification, (level - required) / 4. Costs a little so that
      experts stay free for the work only they can do; an exact fit costs nothing.
    - ``travel`` 1.0: hours of driving to the site at ``travel_speed_kmh`` (on-site only).
    - ``load`` 1.5: open tickets / capacity, to spread work and keep slack for urgent tickets.
    - ``continuity`` 1.0: 0 for the client's lead partner, ``1 - recent_partner_share`` for
      partners who recently worked for the client, 1 for everyone else.
    - ``recent_partner_share`` 0.5: how much of the lead partner's bonus a recent partner gets.
    - ``travel_speed_kmh`` 40: assumed average door-to-door speed.

    The web app builds these from a settings dict with :meth:`from_dict`.
    """

    sla_slack: float = 3.0
    skill_fit: float = 0.5
    travel: float = 1.0
    load: float = 1.5
    continuity: float = 1.0
    recent_partner_share: float = 0.5
    travel_speed_kmh: float = DEFAULT_TRAVEL_SPEED_KMH

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"dispatch weight {item.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"dispatch weight {item.name} must be finite and >= 0")
        if self.travel_speed_kmh <= 0:
            raise ValueError("travel_speed_kmh must be positive")
        if self.recent_partner_share > 1:
            raise ValueError("recent_partner_share must be between 0 and 1")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    @classmethod
    def from_dict(cls, overrides: Mapping[str, float] | None) -> Weights:
        """Defaults overridden by ``overrides``; unknown keys are an error, not a silent no-op."""
        overrides = dict(overrides or {})
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown dispatch weight(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**overrides)


# --------------------------------------------------------------------------- cost terms
# Written with numpy ufuncs so one definition serves a single partner and the whole pool.


def haversine_km(lat1: Num, lon1: Num, lat2: Num, lon2: Num) -> Num:
    """Great-circle distance in km; straight-line is good enough for a radius check."""
    phi1 = np.radians(lat1)
    return _haversine(phi1, np.radians(lon1), np.cos(phi1), lat2, lon2)


def _haversine(phi1: Num, lambda1: Num, cos_phi1: Num, lat2: float, lon2: float) -> Num:
    """:func:`haversine_km` with the first point in radians, precomputed for the pool."""
    phi2 = np.radians(lat2)
    half_dlambda = (np.radians(lon2) - lambda1) / 2
    a = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def sla_slack_cost(start_s: Num, now_s: Num, due_s: Num) -> Num:
    """Share of the remaining response time used up before the partner can start (0..1)."""
    budget = np.maximum(np.subtract(due_s, now_s), MIN_RESPONSE_BUDGET_S)
    return np.clip(np.subtract(start_s, now_s) / budget, 0.0, 1.0)


def skill_fit_cost(level: Num, required: Num) -> Num:
    """0 for an exact fit, rising to 1 for a level-5 expert on a level-1 ticket."""
    return np.clip(np.subtract(level, required) / (MAX_LEVEL - 1), 0.0, 1.0)


def travel_cost(distance_km: Num, speed_kmh: float) -> Num:
    """Hours of driving to the site."""
    return np.divide(distance_km, speed_kmh)


def load_cost(open_load: Num, capacity: Num) -> Num:
    """Share of the partner's capacity already in use."""
    return np.divide(open_load, np.maximum(capacity, 1))


def continuity_cost(is_lead: object, is_recent: object, recent_share: float) -> Num:
    """0 for the client's lead partner, smaller bonus for recent partners, 1 for strangers."""
    return 1.0 - np.maximum(np.multiply(is_lead, 1.0), np.multiply(is_recent, recent_share))


# --------------------------------------------------------------------------- reasons
# Shared by the single-partner filters and the vectorised path so both say the same thing.


def _skill_reason(practice: str, level: int, required: int) -> str:
    if level == 0:
        return f"skill: no {practice} (needs {required})"
    return f"skill: {practice} {level}/{MAX_LEVEL}, needs {required}"


def _availability_reason(
    absent_now: bool, next_cover_s: float, target_s: float, busy: bool = False
) -> str:
    if busy and not absent_now:
        head = "busy with work in hand"
    else:
        head = "absent" if absent_now else "off shift and not on call"
    if math.isinf(next_cover_s):
        return f"availability: {head}; no cover within the planning horizon"
    hours = (next_cover_s - target_s) / 3600
    return f"availability: {head}; next cover starts {hours:.1f} h after the response due time"


def _radius_reason(distance_km: float, radius_km: float) -> str:
    return f"radius: site is {distance_km:.0f} km away, serves {radius_km:.0f} km"


def _capacity_reason(open_load: int, capacity: int) -> str:
    return f"capacity: {open_load} of {capacity} open"


def _language_reason(language: str) -> str:
    return f"language: does not speak {language}"


# --------------------------------------------------------------------------- calendars


def _merge(spans: Iterable[Span]) -> list[Span]:
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
    extra_days, minute = divmod(minute, 24 * 60)
    local = datetime.combine(day + timedelta(days=extra_days), time(minute // 60, minute % 60))
    return _epoch(local.replace(tzinfo=ZoneInfo(time_zone)))


def _weekly_shifts(partner: PartnerState, lo: int, hi: int) -> list[Span]:
    """The partner's local weekly hours as UTC spans covering [lo, hi]; DST-aware."""
    zone, tz = partner.time_zone, ZoneInfo(partner.time_zone)
    hours = {
        WEEKDAYS.index(day): [(_minutes(a), _minutes(b)) for a, b in spans]
        for day, spans in partner.working_hours.items()
    }
    # Start a day early: a shift that began yesterday (or overnight) may still be running.
    day = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi, tz).date()
    out: list[Span] = []
    while day <= last:
        for start, end in hours.get(day.weekday(), ()):
            end = end if end > start else end + 24 * 60  # ends at/before start: past midnight
            out.append((_local_epoch(day, start, zone), _local_epoch(day, end, zone)))
        day += timedelta(days=1)
    return out


def _partner_cover(partner: PartnerState, lo: int, hi: int) -> tuple[list[Span], ...]:
    """(shifts, on-call, absences) within [lo, hi], with absences cut out of the cover."""
    absences = _merge((_epoch(a), _epoch(b)) for a, b in partner.absences)
    shifts = _subtract(_merge(_weekly_shifts(partner, lo, hi)), absences)
    calls = _subtract(_merge((_epoch(a), _epoch(b)) for a, b in partner.on_call), absences)
    return _clip(shifts, lo, hi), _clip(calls, lo, hi), _clip(absences, lo, hi)


@dataclass(frozen=True, slots=True)
class _IntervalPack:
    """Every partner's sorted, disjoint spans in one flat array, searchable all at once.

    ``keys`` is ``row * stride + end``, which is sorted across the whole pool, so a single
    ``searchsorted`` finds each partner's first span that ends after a given time.
    """

    starts: np.ndarray
    ends: np.ndarray
    keys: np.ndarray
    stops: np.ndarray
    base: np.ndarray

    @classmethod
    def build(cls, rows: Sequence[list[Span]], origin: int, stride: int) -> _IntervalPack:
        counts = np.array([len(row) for row in rows], dtype=np.int64)
        flat = np.array([span for row in rows for span in row], dtype=np.int64).reshape(-1, 2)
        flat -= origin
        base = np.arange(len(rows), dtype=np.int64) * stride
        keys = np.repeat(base, counts) + flat[:, 1]
        return cls(flat[:, 0].copy(), flat[:, 1].copy(), keys, np.cumsum(counts), base)

    def next_after(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Per partner, the start (never before t) and end of the first span ending after t.

        Both are ``inf`` when the partner has no such span in the horizon.
        """
        return self.next_after_rows(None, t)

    def next_after_rows(self, rows: np.ndarray | None, t: int | np.ndarray) -> tuple:
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
        "_by_id",
        "_calls",
        "_capacity",
        "_clock_memo",
        "_cos_phi",
        "_free",
        "_is_desk",
        "_lambda",
        "_languages",
        "_levels",
        "_load",
        "_load_share",
        "_phi",
        "_radius",
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
        _check_aware(start, "index start")
        if days < 1:
            raise ValueError("the index must cover at least one day")
        self.partners: tuple[PartnerState, ...] = tuple(
            sorted(partners, key=lambda p: _id_key(p.id))
        )
        self._by_id = {p.id: row for row, p in enumerate(self.partners)}
        if len(self._by_id) != len(self.partners):
            raise ValueError("partner ids must be unique")
        self.origin_s = _epoch(start)
        self.end_s = self.origin_s + days * _DAY_S
        covers = [_partner_cover(p, self.origin_s, self.end_s) for p in self.partners]
        stride = self.end_s - self.origin_s + 1
        self._shifts = _IntervalPack.build([c[0] for c in covers], self.origin_s, stride)
        self._calls = _IntervalPack.build([c[1] for c in covers], self.origin_s, stride)
        self._absences = _IntervalPack.build([c[2] for c in covers], self.origin_s, stride)
        practices = sorted({name for p in self.partners for name in p.skills} | {DESK_PRACTICE})
        self._levels = {
            name: np.array([p.level_in(name) for p in self.partners], dtype=np.int64)
            for name in practices
        }
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
        for row, partner in enumerate(self.partners):
            if partner.free_at:
                self._free[:, row] = self._free_column(partner)
        self._is_desk = np.array([p.kind == "desk" for p in self.partners], dtype=bool)
        self._clock_memo: _Clock | None = None

    @classmethod
    def for_tickets(
        cls, partners: Iterable[PartnerState], tickets: Iterable[TicketNeed], now: datetime
    ) -> PartnerIndex:
        """An index starting at ``now`` long enough to see every ticket's response target."""
        latest = max((_epoch(t.response_due_at) for t in tickets), default=_epoch(now))
        days = max(DEFAULT_HORIZON_DAYS, math.ceil((latest - _epoch(now)) / _DAY_S) + 1)
        return cls(partners, start=now, days=days)

    def __len__(self) -> int:
        return len(self.partners)

    def row(self, partner_id: PartnerId) -> int:
        """Array position of a partner."""
        return self._by_id[partner_id]

    def covers(self, now: datetime) -> bool:
        """Whether decisions at ``now`` fall inside this index's calendar horizon."""
        return self.origin_s <= _epoch(now) <= self.end_s

    def with_loads(
        self,
        loads: Mapping[PartnerId, int],
        free_at: Mapping[PartnerId, Mapping[str, datetime]] | None = None,
    ) -> PartnerIndex:
        """A copy with some partners' open load (and ``free_at``) replaced; calendars are
        shared, not rebuilt."""
        clone = object.__new__(PartnerIndex)
        for name in PartnerIndex.__slots__:
            object.__setattr__(clone, name, getattr(self, name))
        load = self._load.copy()
        free = self._free.copy() if free_at else self._free
        partners = list(self.partners)
        for partner_id in {*loads, *(free_at or {})}:
            row = self._by_id[partner_id]
            changes: dict[str, object] = {}
            if partner_id in loads:
                changes["open_load"] = load[row] = loads[partner_id]
            if free_at and partner_id in free_at:
                changes["free_at"] = free_at[partner_id]
            partners[row] = _replace(partners[row], changes)  # validates the values
            if "free_at" in changes:
                free[:, row] = self._free_column(partners[row])
        clone.partners = tuple(partners)
        clone._free = free
        clone._set_load(load)
        return clone

    def _free_column(self, partner: PartnerState) -> np.ndarray:
        """Per priority, when the partner is through their work in hand (index seconds)."""
        free = partner.free_at
        return np.array(
            [_epoch(free[p]) - self.origin_s if p in free else _NEVER_BUSY for p in PRIORITIES],
            dtype=np.int64,
        )

    def _set_load(self, load: np.ndarray) -> None:
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

    def levels(self, practice: str) -> np.ndarray:
        return self._levels.get(practice, np.zeros(len(self), dtype=np.int64))

    def speaks(self, language: str) -> np.ndarray:
        return self._languages.get(language, np.zeros(len(self), dtype=bool))


def _replace(partner: PartnerState, changes: Mapping[str, object]) -> PartnerState:
    values = {item.name: getattr(partner, item.name) for item in fields(partner)}
    return PartnerState(**{**values, **changes})


def _as_index(
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


# --------------------------------------------------------------------------- single-partner filters


def reject_skill(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the partner's level in the practice is below the required level."""
    level = partner.level_in(ticket.practice)
    if level >= ticket.required_level:
        return None
    return _skill_reason(ticket.practice, level, ticket.required_level)


def reject_availability(ticket: TicketNeed, partner: PartnerState, now: datetime) -> str | None:
    """Reason when the partner cannot start before the response due time.

    Available means on shift now, or a shift starting before the response due time, or on
    call before it; never while absent. If the response is already overdue, only cover
    right now counts. Escalation is not considered here: :func:`rank` applies it.
    """
    index = PartnerIndex.for_tickets([partner], [ticket], now)
    cover = _availability(index, ticket, _epoch(now) - index.origin_s, None)
    if not cover.unavailable[0]:
        return None
    return _availability_reason(
        bool(cover.absent_now[0]), cover.next_start(0), cover.target, bool(cover.busy[0])
    )


def reject_radius(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when an on-site ticket's location is outside the partner's service radius."""
    if not ticket.needs_onsite or ticket.onsite_location is None:
        return None
    distance = float(haversine_km(partner.home_lat, partner.home_lon, *ticket.onsite_location))
    if distance <= partner.radius_km:
        return None
    return _radius_reason(distance, partner.radius_km)


def reject_capacity(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the partner has no free capacity (open load >= capacity)."""
    del ticket  # same signature as the other filters; capacity does not depend on it
    if partner.open_load < partner.capacity:
        return None
    return _capacity_reason(partner.open_load, partner.capacity)


def reject_language(ticket: TicketNeed, partner: PartnerState) -> str | None:
    """Reason when the ticket names a language the partner does not speak."""
    if ticket.language is None or ticket.language in partner.languages:
        return None
    return _language_reason(ticket.language)


def may_bypass_availability(ticket: TicketNeed, partner: PartnerState) -> bool:
    """Escalation override: experts of the practice may be called in outside their cover."""
    level = partner.level_in(ticket.practice)
    return ticket.escalate and level >= max(EXPERT_LEVEL, ticket.required_level)


# --------------------------------------------------------------------------- vectorised evaluation


@dataclass(frozen=True, slots=True)
class _Cover:
    """When each partner can start on a ticket; seconds since the index origin.

    Only what filtering and costing need is computed up front; the details shown to
    people (kind of cover, when it ends, when the next begins) are derived per position.
    """

    target: int
    start: np.ndarray
    by_shift: np.ndarray
    by_call: np.ndarray
    unavailable: np.ndarray
    absent_now: np.ndarray
    busy: np.ndarray
    shift_start: np.ndarray
    shift_end: np.ndarray
    call_start: np.ndarray
    call_end: np.ndarray

    def kinds(self, at: np.ndarray) -> np.ndarray:
        """1 = on shift, 2 = on call, 3 = neither (only an escalation gets such a partner)."""
        return np.where(self.by_shift[at], 1, np.where(self.by_call[at], 2, 3))

    def ends(self, at: np.ndarray) -> np.ndarray:
        return np.where(self.by_shift[at], self.shift_end[at], self.call_end[at])

    def next_start(self, at: int) -> float:
        return float(min(self.shift_start[at], self.call_start[at]))


@dataclass(frozen=True, slots=True)
class _Clock:
    """Every partner's next shift, on-call cover and absence as seen from one moment.

    It depends only on the moment, not on the ticket, so a queue decided at one time
    shares it (see :meth:`PartnerIndex._clock`).
    """

    now: int
    shift_start: np.ndarray
    shift_end: np.ndarray
    call_start: np.ndarray
    call_end: np.ndarray
    absent_now: np.ndarray


def _take(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _availability(
    index: PartnerIndex, ticket: TicketNeed, now: int, rows: np.ndarray | None
) -> _Cover:
    clock = index._clock(now)
    shift_start, call_start = _take(clock.shift_start, rows), _take(clock.call_start, rows)
    shift_end, call_end = _take(clock.shift_end, rows), _take(clock.call_end, rows)
    free = _take(index._free[PRIORITIES.index(ticket.priority)], rows)
    busy = free > now
    if busy.any():
        # Busy partners can start once through their work in hand, at their next cover.
        at = np.flatnonzero(busy)
        where = at if rows is None else rows[at]
        shift_start, shift_end, call_start, call_end = (
            a.astype(float) for a in (shift_start, shift_end, call_start, call_end)
        )
        shift_start[at], shift_end[at] = index._shifts.next_after_rows(where, free[at])
        call_start[at], call_end[at] = index._calls.next_after_rows(where, free[at])
    # Overdue tickets still get dispatched, but only to someone who can start right now.
    target = max(_epoch(ticket.response_due_at) - index.origin_s, now)
    # Prefer the shift when it starts in time: nobody is paged for work that can wait for
    # the next shift. After hours, when it cannot wait, only on-call cover passes.
    by_shift = shift_start <= target
    by_call = ~by_shift & (call_start <= target)
    return _Cover(
        target=target,
        start=np.where(by_shift, shift_start, np.where(by_call, call_start, now)),
        by_shift=by_shift,
        by_call=by_call,
        unavailable=~(by_shift | by_call),
        absent_now=_take(clock.absent_now, rows),
        busy=busy,
        shift_start=shift_start,
        shift_end=shift_end,
        call_start=call_start,
        call_end=call_end,
    )


@dataclass(frozen=True, slots=True)
class _Evaluation:
    """Filters and costs of one ticket against partners ``rows`` of the index.

    Every array is parallel to ``rows`` (all partners, in id order, unless evaluated for
    a subset), so "position" below means a position in these arrays.
    """

    rows: np.ndarray
    now: int
    cover: _Cover
    level: np.ndarray
    failures: dict[str, np.ndarray]
    bypass: np.ndarray
    feasible: np.ndarray
    distance: np.ndarray | None
    continuity: np.ndarray
    tier: np.ndarray
    terms: dict[str, np.ndarray]
    total: np.ndarray


def _continuity(ticket: TicketNeed, index: PartnerIndex, rows: np.ndarray | None) -> np.ndarray:
    """Per position: 2 for the client's lead partner, 1 for a recent partner, else 0."""
    recent = [index._by_id[p] for p in ticket.recent_partner_ids if p in index._by_id]
    lead = index._by_id.get(ticket.client_lead_partner_id, -1)
    if rows is None:
        continuity = np.zeros(len(index), dtype=np.int8)
        continuity[recent] = 1
        if lead >= 0:
            continuity[lead] = 2
        return continuity
    # Subsets are a handful of rows (explaining one assignment), so plain Python wins.
    recent_rows = set(recent)
    marks = [2 if row == lead else int(row in recent_rows) for row in rows.tolist()]
    return np.array(marks, dtype=np.int8)


def _evaluate(
    ticket: TicketNeed,
    index: PartnerIndex,
    weights: Weights,
    now_s: int,
    rows: np.ndarray | None = None,
) -> _Evaluation:
    """Every filter and cost term for ``ticket``, vectorised over partners ``rows`` (all)."""
    n = len(index) if rows is None else len(rows)
    now = now_s - index.origin_s
    level = _take(index.levels(ticket.practice), rows)
    cover = _availability(index, ticket, now, rows)
    failures = {"skill": level < ticket.required_level, "availability": cover.unavailable}
    distance = None
    if ticket.needs_onsite and ticket.onsite_location is not None:
        phi, lam, cos_phi = (_take(a, rows) for a in (index._phi, index._lambda, index._cos_phi))
        distance = _haversine(phi, lam, cos_phi, *ticket.onsite_location)
        failures["radius"] = distance > _take(index._radius, rows)
    failures["capacity"] = _take(index._at_capacity, rows)
    if ticket.language is not None:
        failures["language"] = ~_take(index.speaks(ticket.language), rows)
    expert = level >= max(EXPERT_LEVEL, ticket.required_level)
    bypass = cover.unavailable & expert if ticket.escalate else np.zeros(n, dtype=bool)
    blocked = failures["availability"] & ~bypass
    for name, mask in failures.items():
        if name != "availability":
            blocked = blocked | mask
    continuity = _continuity(ticket, index, rows)
    # The cost of each continuity mark (0 none, 1 recent, 2 lead), then one gather.
    by_mark = continuity_cost(_MARK_IS_LEAD, _MARK_IS_RECENT, weights.recent_partner_share)
    terms = {
        "sla_slack": weights.sla_slack * sla_slack_cost(cover.start, now, cover.target),
        "skill_fit": weights.skill_fit * skill_fit_cost(level, ticket.required_level),
        "load": weights.load * _take(index._load_share, rows),
        "continuity": weights.continuity * by_mark[continuity],
    }
    total = sum(terms.values())
    if distance is None:
        terms["travel"] = np.zeros(n)
    else:
        terms["travel"] = weights.travel * travel_cost(distance, weights.travel_speed_kmh)
        total = total + terms["travel"]
    if ticket.desk_tier:
        tier = (~_take(index._is_desk, rows)).astype(np.int8)
    else:
        tier = np.zeros(n, dtype=np.int8)
    return _Evaluation(
        rows=np.arange(n) if rows is None else rows,
        now=now,
        cover=cover,
        level=level,
        failures=failures,
        bypass=bypass,
        feasible=~blocked,
        distance=distance,
        continuity=continuity,
        tier=tier,
        terms=terms,
        total=total,
    )


def _ranked(ev: _Evaluation) -> np.ndarray:
    """Feasible positions, best first: not escalated, preferred tier, cheaper, lower id."""
    feasible = np.flatnonzero(ev.feasible)
    # Rounding keeps float noise from deciding a tie that the partner id should decide.
    total = np.round(ev.total[feasible], 9)
    order = np.lexsort((ev.rows[feasible], total, ev.tier[feasible], ev.bypass[feasible]))
    return feasible[order]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Candidate:
    """A partner who can take the ticket, with the score and the facts behind it.

    ``terms`` are the weighted contributions (they add up to ``total``). ``cover`` is
    "shift", "on_call" or "escalated"; an escalated candidate bypassed the availability
    filter and ``overridden`` says what it would have rejected. ``busy`` means the start
    waits for the partner's work in hand (``PartnerState.free_at``).
    """

    partner_id: PartnerId
    partner_name: str
    kind: str
    total: float
    terms: Mapping[str, float]
    tier: int
    escalated: bool
    overridden: str | None
    start_at: datetime
    wait: timedelta
    cover: str
    cover_until: datetime | None
    time_zone: str
    practice: str
    level: int
    distance_km: float | None
    open_load: int
    capacity: int
    continuity: str | None
    busy: bool = False

    @property
    def explanation(self) -> str:
        """One line for humans, e.g. "Security 4/5; 12 km; on shift until 17:00 their time"."""
        parts = [f"{self.practice.capitalize()} {self.level}/{MAX_LEVEL}"]
        if self.distance_km is not None:
            parts.append(f"{self.distance_km:.0f} km")
        parts.append(self._cover_phrase())
        parts.append(f"{self.open_load} of {self.capacity} open")
        if self.continuity == "lead":
            parts.append("client's lead partner")
        elif self.continuity == "recent":
            parts.append("worked for this client recently")
        if self.kind == "desk":
            parts.append("service desk")
        if self.escalated:
            parts.append(f"escalation bypassed {self.overridden}")
        return "; ".join(parts)

    def _cover_phrase(self) -> str:
        tz = ZoneInfo(self.time_zone)
        now_local = (self.start_at - self.wait).astimezone(tz)
        start_local = self.start_at.astimezone(tz)

        def label(moment: datetime) -> str:
            # Name the day only when it is not the day the partner is in right now.
            fmt = "%H:%M" if moment.date() == now_local.date() else "%a %H:%M"
            return moment.strftime(fmt)

        if self.cover == "escalated":
            return "called in now by escalation"
        what = "on shift" if self.cover == "shift" else "on call"
        if self.wait <= timedelta(0) and self.cover_until is not None:
            return f"{what} until {label(self.cover_until.astimezone(tz))} their time"
        minutes = round(self.wait.total_seconds() / 60)
        verb = "shift starts" if self.cover == "shift" else "on call from"
        if self.busy:
            verb = "free from"
        return (
            f"{verb} {label(start_local)} their time (in {minutes // 60} h {minutes % 60:02d} min)"
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """A partner the hard filters ruled out, with every reason that applied."""

    partner_id: PartnerId
    partner_name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Source:
    """What a decision was computed from, so its full lists can be rebuilt on demand."""

    ticket: TicketNeed
    index: PartnerIndex
    weights: Weights
    now_s: int

    def evaluate(self) -> _Evaluation:
        return _evaluate(self.ticket, self.index, self.weights, self.now_s)


@dataclass(frozen=True)
class Decision:
    """Outcome of :func:`rank`.

    ``chosen`` is None when nobody can take the ticket; then ``reason`` starts with "no
    partner can take this ticket:" and the caller queues the ticket for the desk. Nothing
    is dropped: every partner is in ``candidates`` (ranked, best first) or ``rejected``
    (id order, with reasons). Those two lists cost far more to build than the decision
    itself, so they are built on first access (from the same inputs, hence identical) and
    cached; pickling stores them built. ``rejected_by`` counts partners per failed filter.
    """

    ticket_id: TicketId
    decided_at: datetime
    chosen: Candidate | None
    feasible_count: int
    rejected_by: Mapping[str, int]
    reason: str
    _source: _Source | None = field(default=None, compare=False, repr=False)

    @property
    def escalated(self) -> bool:
        """True when the chosen partner was let through by the escalation override."""
        return self.chosen is not None and self.chosen.escalated

    @cached_property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.top(None)

    @cached_property
    def rejected(self) -> tuple[Rejection, ...]:
        assert self._source is not None  # only unpickled decisions lack it, and they are built
        ev = self._source.evaluate()
        return tuple(_rejections(ev, self._source.index, self._source.ticket))

    def top(self, count: int | None) -> tuple[Candidate, ...]:
        """The best ``count`` candidates (all when None) without building the rest."""
        if "candidates" in self.__dict__ or self._source is None:
            return self.candidates[:count]
        ev = self._source.evaluate()
        best = _ranked(ev)[:count]
        return tuple(_candidates(ev, self._source.index, self._source.ticket, best))

    def verdict(self, partner_id: PartnerId) -> Candidate | Rejection:
        """Why one partner is (or is not) in the running, e.g. for "why not Alice?"."""
        if self._source is None:
            found = [v for v in (*self.candidates, *self.rejected) if v.partner_id == partner_id]
            if not found:
                raise KeyError(partner_id)
            return found[0]
        source = self._source
        rows = np.array([source.index.row(partner_id)])
        ev = _evaluate(source.ticket, source.index, source.weights, source.now_s, rows)
        if ev.feasible[0]:
            return _candidates(ev, source.index, source.ticket, np.array([0]))[0]
        return _rejections(ev, source.index, source.ticket, np.array([0]))[0]

    def __getstate__(self) -> dict[str, object]:
        # Pickle the built lists rather than the partner index they come from.
        state = dict(self.__dict__)
        state.update(candidates=self.candidates, rejected=self.rejected, _source=None)
        return state


def _candidates(
    ev: _Evaluation,
    index: PartnerIndex,
    ticket: TicketNeed,
    positions: np.ndarray,
    extra_load: Sequence[int] | None = None,
    load_weight: float = 0.0,
) -> list[Candidate]:
    """Materialise the candidates at ``positions`` of the evaluation.

    ``extra_load`` counts tickets a plan already gave the partner; each adds
    ``load_weight / capacity`` to the load term, exactly as if it were already open.
    """
    if not len(positions):
        return []
    extra = [0] * len(positions) if extra_load is None else list(extra_load)
    origin, now = index.origin_s, ev.now
    columns = {name: ev.terms[name][positions].tolist() for name in TERMS}
    starts = ev.cover.start[positions].tolist()
    ends = ev.cover.ends(positions).tolist()
    codes = np.where(ev.bypass[positions], 3, ev.cover.kinds(positions)).tolist()
    distances = None if ev.distance is None else ev.distance[positions].tolist()
    out = []
    for i, at in enumerate(positions.tolist()):
        partner = index.partners[ev.rows[at]]
        terms = {name: columns[name][i] for name in TERMS}
        if extra[i]:
            terms["load"] += load_weight * extra[i] / max(partner.capacity, 1)
        escalated = codes[i] == 3
        out.append(
            Candidate(
                partner_id=partner.id,
                partner_name=partner.name,
                kind=partner.kind,
                total=sum(terms.values()),
                terms=terms,
                tier=int(ev.tier[at]),
                escalated=escalated,
                overridden=_availability_text(ev, at) if escalated else None,
                start_at=_utc(origin + starts[i]),
                wait=timedelta(seconds=starts[i] - now),
                cover=_COVER_NAMES[codes[i]],
                cover_until=None if escalated else _utc(origin + ends[i]),
                time_zone=partner.time_zone,
                practice=ticket.practice,
                level=int(ev.level[at]),
                distance_km=None if distances is None else distances[i],
                open_load=partner.open_load + extra[i],
                capacity=partner.capacity,
                continuity=(None, "recent", "lead")[ev.continuity[at]],
                busy=bool(ev.cover.busy[at]),
            )
        )
    return out


def _availability_text(ev: _Evaluation, at: int) -> str:
    cover = ev.cover
    return _availability_reason(
        bool(cover.absent_now[at]), cover.next_start(at), cover.target, bool(cover.busy[at])
    )


def _rejections(
    ev: _Evaluation,
    index: PartnerIndex,
    ticket: TicketNeed,
    positions: np.ndarray | None = None,
) -> list[Rejection]:
    """Infeasible partners (all, in id order, unless ``positions`` is given), with reasons."""
    positions = np.flatnonzero(~ev.feasible) if positions is None else positions
    # Every failed filter is listed: escalation only helps partners who pass the rest.
    failed = {name: mask[positions].tolist() for name, mask in ev.failures.items()}
    levels = ev.level[positions].tolist()
    distances = None if ev.distance is None else ev.distance[positions].tolist()
    out = []
    for i, at in enumerate(positions.tolist()):
        partner = index.partners[ev.rows[at]]
        reasons = []
        if failed["skill"][i]:
            reasons.append(_skill_reason(ticket.practice, levels[i], ticket.required_level))
        if failed["availability"][i]:
            reasons.append(_availability_text(ev, at))
        if distances is not None and failed["radius"][i]:
            reasons.append(_radius_reason(distances[i], partner.radius_km))
        if failed["capacity"][i]:
            reasons.append(_capacity_reason(partner.open_load, partner.capacity))
        if ticket.language is not None and failed["language"][i]:
            reasons.append(_language_reason(ticket.language))
        out.append(Rejection(partner.id, partner.name, tuple(reasons)))
    return out


def _rejected_by(ev: _Evaluation) -> dict[str, int]:
    blocked = ~ev.feasible
    return {name: int((mask & blocked).sum()) for name, mask in ev.failures.items()}


def _nobody_reason(ticket: TicketNeed, rejected_by: Mapping[str, int], pool: int) -> str:
    """Why nobody qualifies, as counts per filter, for the desk's unassignable queue."""
    if not pool:
        return "no partner can take this ticket: there are no partners to choose from"
    labels = {
        "skill": f"below {ticket.practice} {ticket.required_level}",
        "availability": "not available before the response due time",
        "radius": "too far for the on-site visit",
        "capacity": "at capacity",
        "language": f"do not speak {ticket.language}",
    }
    counts = [f"{count} {labels[name]}" for name, count in rejected_by.items() if count]
    return f"no partner can take this ticket: of {pool}, " + ", ".join(counts)


def rank(
    ticket: TicketNeed,
    partners: PartnerIndex | Iterable[PartnerState],
    weights: Weights | None = None,
    now: datetime | None = None,
) -> Decision:
    """Rank every partner for ``ticket`` and choose the best, explaining every verdict.

    ``partners`` is ideally a reused :class:`PartnerIndex`; a plain iterable is indexed on
    the fly, which is much slower. ``now`` defaults to the current time.
    """
    now = datetime.now(UTC) if now is None else now
    _check_aware(now, "now")
    weights = Weights() if weights is None else weights
    index = _as_index(partners, [ticket], now)
    source = _Source(ticket, index, weights, _epoch(now))
    ev = source.evaluate()
    ranked = _ranked(ev)
    chosen = next(iter(_candidates(ev, index, ticket, ranked[:1])), None)
    rejected_by = _rejected_by(ev)
    if chosen is None:
        reason = _nobody_reason(ticket, rejected_by, len(index))
    else:
        reason = (
            f"{chosen.partner_name} is the best of {len(ranked)} feasible: {chosen.explanation}"
        )
    return Decision(
        ticket_id=ticket.id,
        decided_at=now,
        chosen=chosen,
        feasible_count=len(ranked),
        rejected_by=rejected_by,
        reason=reason,
        _source=source,
    )
