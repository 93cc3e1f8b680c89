"""Drawing a scenario's tickets: the arrivals of its horizon, each with its client, site,
level, work and due times; the same seed draws the same tickets.

Like the engines, this module imports nothing from Django.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from thirdway.dispatch import realism as real
from thirdway.dispatch.scenario import Scenario, SimTicket
from thirdway.sla.engine import Calendar, add_business_seconds


def hour_of_week(start_s: int, hours: int, zone: str) -> np.ndarray:
    """For each hour after ``start_s``, its hour of the week in ``zone`` (Monday 00 = 0)."""
    tz = ZoneInfo(zone)
    out = np.empty(hours, dtype=np.int64)
    for h in range(hours):
        local = datetime.fromtimestamp(start_s + 3600 * h, tz)
        out[h] = local.weekday() * 24 + local.hour
    return out


def draw_tickets(scenario: Scenario) -> list[SimTicket]:
    """The arrivals of the horizon, in time order; the same seed gives the same tickets."""
    rng = np.random.default_rng(scenario.seed)
    hours = math.ceil(scenario.horizon_s / 3600)
    if scenario.realism.client_hours:
        at, which, clients = real.client_arrivals(scenario, rng, hours)
        order = np.lexsort((clients, which, at))
        keep = at[order] < scenario.horizon_s
        at, which, clients = at[order][keep], which[order][keep], clients[order][keep]
    else:
        at, which = _arrivals(scenario, rng, hours)
        client_weights = np.array([c.weight for c in scenario.clients])
        p = client_weights / client_weights.sum()
        clients = rng.choice(len(scenario.clients), size=len(at), p=p)
    n = len(at)
    waits = real.client_waits(scenario, n)
    site_pick, onsite_draw, desk_draw, level_draw = rng.random((4, n))
    normal = rng.standard_normal(n)
    drawn = []
    for i in range(n):
        stream = scenario.arrivals[int(which[i])]
        levels = np.cumsum(stream.levels) / sum(stream.levels)
        drawn.append(min(int(np.searchsorted(levels, level_draw[i], side="right")) + 1, 5))
    escalates = real.escalations(scenario, drawn)
    tickets = []
    for i in range(n):
        stream = scenario.arrivals[int(which[i])]
        client = scenario.clients[int(clients[i])]
        level = drawn[i]
        service = scenario.service_time(stream.practice, stream.priority)
        work = service.median_minutes * 60 * math.exp(service.sigma * normal[i])
        arrival = scenario.start_s + int(at[i])
        onsite = bool(onsite_draw[i] < stream.onsite_share)
        policy, calendar = scenario.sla_for(client, stream.priority)
        tickets.append(
            SimTicket(
                id=i + 1,
                arrival_s=arrival,
                practice=stream.practice,
                priority=stream.priority,
                level=level,
                client=int(clients[i]),
                site=client.sites[int(site_pick[i] * len(client.sites))],
                onsite=onsite,
                desk_first=not onsite and bool(desk_draw[i] < stream.desk_share),
                work_s=max(scenario.min_service_s, round(work)),
                response_due_s=_due(calendar, arrival, policy.response_s),
                resolution_due_s=_due(calendar, arrival, policy.resolution_s),
                language=client.language,
                wait_s=int(waits[i]),
                escalates=bool(escalates[i]),
            )
        )
    return tickets


def _arrivals(
    scenario: Scenario, rng: np.random.Generator, hours: int
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival offsets (seconds) and streams, rates read in the arrival zone."""
    week_hour = hour_of_week(scenario.start_s, hours, scenario.arrival_zone)
    times, stream_of = [], []
    for k, stream in enumerate(scenario.arrivals):
        counts = rng.poisson(np.asarray(stream.per_hour)[week_hour])
        at = np.repeat(np.arange(hours) * 3600, counts) + rng.uniform(0, 3600, counts.sum())
        times.append(at)
        stream_of.append(np.full(len(at), k))
    at = np.concatenate(times)
    which = np.concatenate(stream_of)
    order = np.lexsort((which, at))
    at, which = at[order], which[order]
    keep = at < scenario.horizon_s
    return at[keep], which[keep]


def _due(calendar: Calendar | None, arrival_s: int, seconds: int) -> int:
    if calendar is None:
        return arrival_s + seconds
    start = datetime.fromtimestamp(arrival_s, UTC)
    return math.floor(add_business_seconds(calendar, start, seconds).timestamp())


def expected_load(scenario: Scenario, partners_cover_s: float) -> float:
    """Offered work over the partners' covered time, for documenting a scenario's load;
    with ``realism.load_counts_travel`` the expected drive to on-site tickets counts too."""
    hours = math.ceil(scenario.horizon_s / 3600)
    week_hour = hour_of_week(scenario.start_s, hours, scenario.arrival_zone)
    work = 0.0
    for stream in scenario.arrivals:
        count = float(np.asarray(stream.per_hour)[week_hour].sum())
        mean = scenario.service_time(stream.practice, stream.priority).mean_minutes * 60
        work += count * max(mean, scenario.min_service_s)
        if scenario.realism.load_counts_travel and stream.onsite_share > 0:
            work += count * stream.onsite_share * real.travel_s(scenario, stream.practice)
    return work / max(partners_cover_s, 1.0)
