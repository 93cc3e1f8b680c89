"""The engine's inputs: a ticket's needs, a partner's state, the cost weights, and the
checks and time conversions they share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from thirdway.weekly_hours import WEEKDAYS as WEEKDAYS
from thirdway.weekly_hours import parse_shift

PartnerId = int | str
TicketId = int | str
LatLon = tuple[float, float]
Span = tuple[int, int]
Num = float | np.ndarray
# Columns of the partner pool (one value per partner), and positions in them.
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]


PRIORITIES = ("P1", "P2", "P3", "P4")
PARTNER_KINDS = ("partner", "associate", "desk")
FILTERS = ("skill", "availability", "radius", "capacity", "language")
TERMS = ("sla_slack", "skill_fit", "travel", "load", "continuity", "scarcity", "stretch")
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


def check_aware(value: object, what: str) -> None:
    """Refuse anything but a timezone-aware datetime, naming it ``what``."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


def epoch(value: datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return math.floor(value.timestamp())


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _spans(
    values: Iterable[tuple[datetime, datetime]], what: str
) -> tuple[tuple[datetime, datetime], ...]:
    spans = tuple((start, end) for start, end in values)
    for start, end in spans:
        check_aware(start, f"{what} start")
        check_aware(end, f"{what} end")
        if end <= start:
            raise ValueError(f"{what} must end after it starts: {start} - {end}")
    return spans


def id_key(value: PartnerId) -> tuple[int, int, str]:
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
    ranking; pass it to :func:`thirdway.dispatch.optimiser.place_visit`. ``surge`` says
    that the ticket's skill is in surge as it is decided (its tickets not yet started
    outnumber twice, the surge ratio, its partners at work:
    :func:`thirdway.dispatch.storms.in_surge`): routine work's drive then weighs no more
    than urgent work's.
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
    surge: bool = False

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {self.priority!r}")
        if not 1 <= self.required_level <= MAX_LEVEL:
            raise ValueError(f"required_level must be 1-{MAX_LEVEL}")
        for name in ("created_at", "response_due_at", "resolution_due_at"):
            check_aware(getattr(self, name), name)
        if self.needs_onsite and self.onsite_location is None:
            raise ValueError("an on-site ticket needs an onsite_location")
        if self.visit_window is not None:
            _spans([self.visit_window], "visit window")
        object.__setattr__(self, "recent_partner_ids", frozenset(self.recent_partner_ids))

    @property
    def desk_tier(self) -> bool:
        """True when desk-kind partners should be preferred for this ticket."""
        return self.desk_first or self.practice == DESK_PRACTICE


def check_location(location: LatLon, what: str) -> None:
    """Refuse anything but a valid (latitude, longitude) pair, naming it ``what``."""
    lat, lon = location
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"{what} must be a valid latitude/longitude")


@dataclass(frozen=True, slots=True)
class Visit:
    """An on-site visit a partner drives on from: its site and how people name it (e.g.
    "the site of TW-10012")."""

    location: LatLon
    name: str

    def __post_init__(self) -> None:
        check_location(self.location, "visit location")
        object.__setattr__(self, "location", (float(self.location[0]), float(self.location[1])))


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

    ``drive_from`` says, per priority, where the partner will be when they would start a new
    ticket of that priority: the on-site visit they will have made last before it (the one
    in progress, or the last queued ahead of it, the same shift). A missing priority means
    they leave from home. The travel term, and the radius for a partner already out, are
    measured from there (see :func:`~thirdway.dispatch.engine.evaluation.within_radius`).
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
    drive_from: Mapping[str, Visit] = field(default_factory=dict)

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
                parse_shift(day, start, end)  # a HoursError (a ValueError) says what is wrong
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
            check_aware(moment, f"free_at[{priority}]")
        object.__setattr__(self, "free_at", dict(self.free_at))
        for priority, visit in self.drive_from.items():
            if priority not in PRIORITIES:
                raise ValueError(
                    f"drive_from keys must be priorities {PRIORITIES}, got {priority!r}"
                )
            if not isinstance(visit, Visit):
                raise ValueError(f"drive_from[{priority}] must be a Visit, got {visit!r}")
        object.__setattr__(self, "drive_from", dict(self.drive_from))

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
    - ``scarcity`` 0.0 (off): giving a partner work outside a skill few partners hold (see
      :func:`~thirdway.dispatch.engine.terms.scarcity_cost`): 1 for the only holder of a
      skill, 1/2 for one of two, 1/3 for one of three, 0 for a skill four or more hold. Keeps
      scarce specialists free when the work can go to others; never keeps it from them. Off
      by default: on the simulator's scarce-skill family it did not raise attainment
      (docs/dispatch.md gives the figures).
    - ``recent_partner_share`` 0.5: how much of the lead partner's bonus a recent partner gets.
    - ``travel_speed_kmh`` 40: assumed average door-to-door speed.

    The web app builds these from a settings dict with :meth:`from_dict`.
    """

    sla_slack: float = 3.0
    skill_fit: float = 0.5
    travel: float = 1.0
    load: float = 1.5
    continuity: float = 1.0
    scarcity: float = 0.0
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
