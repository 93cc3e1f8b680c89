"""Simulator scenarios: read a JSON file, check it, and draw the tickets it describes.

A scenario is checked twice: against ``scenario.schema.json`` (shape, types, ranges), then
for what a schema cannot say (known time zones, shifts the engine accepts, lead partners
that exist, a service time for every arrival stream). Every problem is reported with its
path in the document, e.g. ``partners[3].hours.mon``, and all problems are reported at once.

Like the engines, this module imports nothing from Django.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator

from thirdway.dispatch.engine import PRIORITIES, PartnerId, PartnerState
from thirdway.dispatch.realism import Realism
from thirdway.distance import haversine_km
from thirdway.sla.engine import Calendar

# A decoded JSON object, and the (path, message) pairs a check reports.
Json = dict[str, Any]
Problems = list[tuple[str, str]]

HOURS_PER_WEEK = 168
DEFAULT_LEVEL_WEIGHTS = (0.3, 0.3, 0.25, 0.15, 0.0)


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; ``problems`` are (path, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = [f"{path or '(top level)'}: {message}" for path, message in self.problems]
        super().__init__("invalid scenario:\n  " + "\n  ".join(lines))


def json_path(parts: Iterable[str | int]) -> str:
    """``["partners", 3, "hours", "mon"]`` -> ``partners[3].hours.mon``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@cache
def schema() -> Json:
    """The scenario JSON schema shipped with the package."""
    text = resources.files("thirdway.dispatch").joinpath("scenario.schema.json").read_text()
    document: Json = json.loads(text)
    return document


def schema_problems(document: object) -> list[tuple[str, str]]:
    """Schema violations of ``document`` as (path, message), in document order."""
    validator = Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(document):
        # An anyOf failure says little; its closest branch says what is wrong.
        best = min(error.context, key=lambda e: len(e.path), default=error)
        message = best.message if error.validator == "anyOf" else error.message
        if error.validator == "pattern" and "description" in error.schema:
            message = f"{error.instance!r} is not {error.schema['description']}"
        problems.append((json_path(error.absolute_path), message))
    return sorted(set(problems))


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Client:
    id: int | str
    zone: str
    sites: tuple[tuple[float, float], ...]
    lead_partner: int | str | None
    weight: float
    language: str | None = None
    sla_policy: str | None = None  # a name of Scenario.sla_named; None = the default block


@dataclass(frozen=True, slots=True)
class ArrivalStream:
    practice: str
    priority: str
    per_hour: tuple[float, ...]  # 168 rates, Monday 00:00 first, in the arrival zone
    onsite_share: float
    levels: tuple[float, ...]
    desk_share: float


@dataclass(frozen=True, slots=True)
class ServiceTime:
    practice: str | None
    priority: str | None
    median_minutes: float
    sigma: float

    def matches(self, practice: str, priority: str) -> bool:
        return self.practice in (None, practice) and self.priority in (None, priority)

    @property
    def mean_minutes(self) -> float:
        return self.median_minutes * math.exp(self.sigma**2 / 2)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    response_s: int
    resolution_s: int
    hours: Mapping[str, Sequence[Sequence[str]]] | None

    def calendar(self, zone: str, holidays: frozenset[date] = frozenset()) -> Calendar | None:
        """Business hours in ``zone``, closed on the ``holidays`` (local dates), or None for
        around the clock (which holidays do not stop)."""
        if self.hours is None:
            return None
        # Hashable for the cache; the schema made every span a (start, end) pair.
        hours = tuple((d, tuple((a, b) for a, b in s)) for d, s in self.hours.items())
        return _calendar(zone, hours, tuple(sorted(holidays)))


@cache
def _calendar(
    zone: str,
    hours: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
    holidays: tuple[date, ...] = (),
) -> Calendar:
    return Calendar.from_hours(zone, {day: list(spans) for day, spans in hours}, holidays)


@dataclass(frozen=True, slots=True)
class SlaSet:
    """One SLA policy of a scenario: the four priorities and the policy's public holidays."""

    priorities: Mapping[str, SlaPolicy]
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario; times are whole seconds since the Unix epoch."""

    name: str
    start_s: int
    horizon_s: int
    drain_s: int
    seed: int
    arrival_zone: str
    min_service_s: int
    travel_speed_kmh: float
    partners: tuple[PartnerState, ...]
    clients: tuple[Client, ...]
    arrivals: tuple[ArrivalStream, ...]
    service_times: tuple[ServiceTime, ...]
    sla: Mapping[str, SlaPolicy]
    reoptimise_every_s: float | None
    weights: Mapping[str, float] | None
    preempt: bool
    bound_max_tickets: int
    bound_time_limit_s: float
    bound_relaxed: bool = False
    realism: Realism = field(default_factory=Realism)
    # Named SLA policies (clients name one; the rest use ``sla``), the default block's
    # holidays and public holidays per client zone: all empty unless the scenario sets them.
    sla_named: Mapping[str, SlaSet] = field(default_factory=dict)
    sla_holidays: frozenset[date] = frozenset()
    zone_holidays: Mapping[str, frozenset[date]] = field(default_factory=dict)
    # Storms (:mod:`thirdway.dispatch.storms`), both off unless the scenario turns them on.
    link_incidents: bool = False
    link_window_s: int = 900
    surge: bool = False
    surge_ratio: float = 2.0
    surge_defers_p3: bool = False

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_s, UTC)

    @property
    def end_s(self) -> int:
        """When the simulation stops: the horizon plus the drain."""
        return self.start_s + self.horizon_s + self.drain_s

    def service_time(self, practice: str, priority: str) -> ServiceTime:
        return next(s for s in self.service_times if s.matches(practice, priority))

    def sla_for(self, client: Client, priority: str) -> tuple[SlaPolicy, Calendar | None]:
        """The client's SLA terms for ``priority`` and the business-time calendar its due
        times are counted on: the client's named policy (else the scenario's block), closed
        on that policy's holidays and on the public holidays of the client's zone."""
        if client.sla_policy is None:
            terms, holidays = self.sla, self.sla_holidays
        else:
            named = self.sla_named[client.sla_policy]
            terms, holidays = named.priorities, named.holidays
        holidays = holidays | self.zone_holidays.get(client.zone, frozenset())
        policy = terms[priority]
        return policy, policy.calendar(client.zone, holidays)


@dataclass(frozen=True, slots=True)
class SimTicket:
    """One arrival, the same for every policy of a run."""

    id: int
    arrival_s: int
    practice: str
    priority: str
    level: int
    client: int  # position in Scenario.clients
    site: tuple[float, float]
    onsite: bool
    desk_first: bool
    work_s: int  # work at the required level, travel excluded
    response_due_s: int
    resolution_due_s: int
    language: str | None = None  # the client's; only speakers take the ticket
    wait_s: int = 0  # how long the work stops half-way to wait on the client
    # Turns out to need one level more once a partner below that has worked on it a while
    # (realism.escalation); ``level`` is what the dispatcher sees until then.
    escalates: bool = False


# --------------------------------------------------------------------------- reading


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        document = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ScenarioError([("", f"not JSON: {error}")]) from error
    return parse(document)


def parse(document: object) -> Scenario:
    """Validate a decoded scenario and build the model; raises :class:`ScenarioError`."""
    problems = schema_problems(document)
    if problems:
        raise ScenarioError(problems)
    assert isinstance(document, dict)
    problems = []
    partners = _partners(document["partners"], problems)
    clients = _clients(document["clients"], {p.id for p in partners}, problems)
    streams = _streams(document["arrivals"], document["service_times"], problems)
    zone = document.get("arrival_zone", "UTC")
    _check_zone(zone, "arrival_zone", problems)
    sla = _sla(document["sla_policies"], problems)
    sla_holidays = _dates(document["sla_policies"].get("holidays", ()), "sla_policies", problems)
    named = {
        name: SlaSet(
            _sla(item, problems, f"named_sla_policies.{name}"),
            _dates(item.get("holidays", ()), f"named_sla_policies.{name}", problems),
        )
        for name, item in document.get("named_sla_policies", {}).items()
    }
    for i, item in enumerate(document["clients"]):
        name = item.get("sla_policy")
        if name is not None and name not in named:
            known = ", ".join(map(repr, sorted(named))) or "none"
            problems.append(
                (f"clients[{i}].sla_policy", f"no SLA policy named {name!r}; known: {known}")
            )
    zone_holidays = {}
    for zone_name, dates in document.get("public_holidays", {}).items():
        _check_zone(zone_name, f"public_holidays.{zone_name}", problems)
        zone_holidays[zone_name] = _dates(dates, f"public_holidays.{zone_name}", problems, "")
    if problems:
        raise ScenarioError(problems)
    dispatch = document.get("dispatch", {})
    bound = document.get("bound", {})
    return Scenario(
        name=document["name"],
        start_s=_instant(document["start"]),
        horizon_s=round(document["horizon_days"] * 86_400),
        drain_s=round(document.get("drain_days", 7) * 86_400),
        seed=document["seed"],
        arrival_zone=zone,
        min_service_s=round(document.get("min_service_minutes", 15) * 60),
        travel_speed_kmh=float(document.get("travel_speed_kmh", 40)),
        partners=partners,
        clients=clients,
        arrivals=streams,
        service_times=tuple(
            ServiceTime(s.get("practice"), s.get("priority"), s["median_minutes"], s["sigma"])
            for s in document["service_times"]
        ),
        sla=sla,
        reoptimise_every_s=dispatch.get("reoptimise_every_s"),
        weights=dispatch.get("weights"),
        preempt=dispatch.get("preempt", True),
        bound_max_tickets=bound.get("max_tickets", 600),
        bound_time_limit_s=bound.get("time_limit_s", 60),
        bound_relaxed=bound.get("relaxed", False),
        realism=Realism.parse(document.get("realism", {})),
        sla_named=named,
        sla_holidays=sla_holidays,
        zone_holidays=zone_holidays,
        link_incidents=dispatch.get("link_incidents", False),
        link_window_s=round(dispatch.get("link_window_minutes", 15) * 60),
        surge=dispatch.get("surge", False),
        surge_ratio=float(dispatch.get("surge_ratio", 2.0)),
        surge_defers_p3=dispatch.get("surge_defers_p3", False),
    )


def _instant(text: str) -> int:
    return math.floor(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _aware(text: str) -> datetime:
    return datetime.fromtimestamp(_instant(text), UTC)


def _check_zone(zone: str, path: str, problems: Problems) -> None:
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        problems.append((path, f"unknown time zone {zone!r}"))


def _partners(items: list[Json], problems: Problems) -> tuple[PartnerState, ...]:
    out, seen = [], set()
    for i, item in enumerate(items):
        path = f"partners[{i}]"
        if item["id"] in seen:
            problems.append((f"{path}.id", f"duplicate partner id {item['id']!r}"))
        seen.add(item["id"])
        _check_zone(item["zone"], f"{path}.zone", problems)
        for kind in ("absences", "on_call"):
            for k, period in enumerate(item.get(kind, ())):
                if _instant(period["end"]) <= _instant(period["start"]):
                    problems.append((f"{path}.{kind}[{k}]", "must end after it starts"))
        for day, spans in item["hours"].items():
            for k, (begin, end) in enumerate(spans):
                if begin == end or begin == "24:00":
                    problems.append((f"{path}.hours.{day}[{k}]", f"empty shift {begin}-{end}"))
        if any(p[0].startswith(path) for p in problems):
            continue
        try:
            out.append(_partner_state(item))
        except ValueError as error:
            problems.append((path, str(error)))
    return tuple(out)


def _partner_state(item: Json) -> PartnerState:
    def periods(key: str) -> tuple[tuple[datetime, datetime], ...]:
        return tuple((_aware(p["start"]), _aware(p["end"])) for p in item.get(key, ()))

    return PartnerState(
        id=item["id"],
        name=item.get("name", f"Partner {item['id']}"),
        kind=item.get("kind", "partner"),
        skills=item["skills"],
        home_lat=item["home"]["lat"],
        home_lon=item["home"]["lon"],
        radius_km=item.get("radius_km", 50),
        time_zone=item["zone"],
        working_hours={day: [tuple(s) for s in spans] for day, spans in item["hours"].items()},
        absences=periods("absences"),
        on_call=periods("on_call"),
        capacity=item["capacity"],
        languages=frozenset(item.get("languages", ())),
    )


def _clients(
    items: list[Json], partner_ids: set[PartnerId], problems: Problems
) -> tuple[Client, ...]:
    out = []
    for i, item in enumerate(items):
        _check_zone(item["zone"], f"clients[{i}].zone", problems)
        lead = item.get("lead_partner")
        if lead is not None and lead not in partner_ids:
            problems.append((f"clients[{i}].lead_partner", f"no partner has id {lead!r}"))
        sites = tuple((s["lat"], s["lon"]) for s in item["sites"])
        weight = item.get("weight", 1.0)
        out.append(
            Client(
                item["id"],
                item["zone"],
                sites,
                lead,
                weight,
                item.get("language"),
                item.get("sla_policy"),
            )
        )
    return tuple(out)


def _streams(items: list[Json], rules: list[Json], problems: Problems) -> tuple[ArrivalStream, ...]:
    out = []
    for i, item in enumerate(items):
        practice, priority = item["practice"], item["priority"]
        if not any(
            r.get("practice") in (None, practice) and r.get("priority") in (None, priority)
            for r in rules
        ):
            problems.append(
                (f"arrivals[{i}]", f"no service_times rule matches {practice} {priority}")
            )
        levels = tuple(item.get("levels", DEFAULT_LEVEL_WEIGHTS))
        if sum(levels) <= 0:
            problems.append((f"arrivals[{i}].levels", "at least one level needs a weight"))
        rate = item["per_hour"]
        per_hour = tuple(rate) if isinstance(rate, list) else (float(rate),) * HOURS_PER_WEEK
        out.append(
            ArrivalStream(
                practice,
                priority,
                per_hour,
                item.get("onsite_share", 0.0),
                levels,
                item.get("desk_share", 0.0),
            )
        )
    return tuple(out)


def _dates(
    items: Iterable[str], path: str, problems: Problems, key: str = "holidays"
) -> frozenset[date]:
    """Calendar dates (YYYY-MM-DD); one that does not exist is named by its path."""
    out = set()
    where = f"{path}.{key}" if key else path
    for k, text in enumerate(items):
        try:
            out.add(date.fromisoformat(text))
        except ValueError:
            problems.append((f"{where}[{k}]", f"{text!r} is not a date YYYY-MM-DD"))
    return frozenset(out)


def _sla(items: Json, problems: Problems, path: str = "sla_policies") -> dict[str, SlaPolicy]:
    out = {}
    for priority in PRIORITIES:
        item = items[priority]
        policy = SlaPolicy(
            round(item["response_hours"] * 3600),
            round(item["resolution_hours"] * 3600),
            item.get("hours"),
        )
        try:
            policy.calendar("UTC")
        except ValueError as error:
            problems.append((f"{path}.{priority}.hours", str(error)))
        out[priority] = policy
    return out


def travel_km(partner: PartnerState, site: tuple[float, float]) -> float:
    """Out and back from the partner's home."""
    return 2.0 * float(haversine_km(partner.home_lat, partner.home_lon, *site))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


__all__ = [
    "ArrivalStream",
    "Client",
    "Scenario",
    "ScenarioError",
    "ServiceTime",
    "SimTicket",
    "SlaPolicy",
    "SlaSet",
    "at",
    "json_path",
    "load",
    "parse",
    "schema",
    "schema_problems",
    "travel_km",
]
