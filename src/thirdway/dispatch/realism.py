"""What makes a simulated week real: the scenario's ``realism`` block and its draws.

Every part is off unless the scenario sets it, and a part that is off draws nothing, so an
older scenario gives the very same tickets and results:

- ``client_hours``: arrival rates are read in each client's own zone, so clients call in
  their own office hours and weekdays (see :func:`client_arrivals`);
- ``refusals``: a share of offers goes unanswered; after the timeout the ticket is offered
  again and the partner who did not answer is passed over for a while (:func:`refuses`);
- ``sick``: a share of shifts is missed without notice (:func:`sick_spans`);
- ``client_waits``: a share of tickets waits on the client half-way through the work
  (:func:`client_waits`);
- ``chained_travel``: an on-site partner drives from their last visit of the shift;
- ``on_call_urgent_only``: outside shifts, partners on call start P1 and P2 only;
- ``load_counts_travel``: the offered load counts the expected drive (:func:`travel_s`);
- ``escalation``: a share of tickets turns out to need a level one higher, found out after a
  while of work by a partner below that level (:func:`escalations`).

Like the engines, this module imports nothing from Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from thirdway.distance import haversine_km

if TYPE_CHECKING:
    from thirdway.dispatch.scenario import Scenario

# Priorities a partner on call (outside their shifts) still starts when on-call is urgent-only.
URGENT = ("P1", "P2")
# How long a partner who let an offer go unanswered is passed over for that ticket.
REFUSAL_MEMORY_S = 4 * 3600
# Where in the work a ticket stops to wait on the client.
WAIT_AT = 0.5
# Separate random streams, so turning one part on leaves every other draw as it was.
_LANGUAGE_WAITS, _SICK, _REFUSAL, _ESCALATION = 7, 11, 13, 17
# No level above this: a ticket needing it cannot turn out to need more.
TOP_LEVEL = 5


@dataclass(frozen=True, slots=True)
class Realism:
    """The ``realism`` block of a scenario; the defaults are all off."""

    client_hours: bool = False
    refusal_share: float = 0.0
    refusal_timeout_s: int = 900
    sick_share: float = 0.0
    wait_share: float = 0.0
    wait_median_s: float = 7200.0
    wait_sigma: float = 0.8
    chained_travel: bool = False
    on_call_urgent_only: bool = False
    load_counts_travel: bool = False
    escalation_share: float = 0.0
    escalation_after_s: int = 3600

    @classmethod
    def parse(cls, item: dict[str, Any]) -> Realism:
        refusals = item.get("refusals", {})
        waits = item.get("client_waits", {})
        escalation = item.get("escalation", {})
        return cls(
            client_hours=item.get("client_hours", False),
            refusal_share=refusals.get("share", 0.0),
            refusal_timeout_s=round(refusals.get("timeout_minutes", 15) * 60),
            sick_share=item.get("sick", {}).get("share", 0.0),
            wait_share=waits.get("share", 0.0),
            wait_median_s=waits.get("median_minutes", 120) * 60.0,
            wait_sigma=waits.get("sigma", 0.8),
            chained_travel=item.get("chained_travel", False),
            on_call_urgent_only=item.get("on_call_urgent_only", False),
            load_counts_travel=item.get("load_counts_travel", False),
            escalation_share=escalation.get("share", 0.0),
            escalation_after_s=round(escalation.get("after_minutes", 60) * 60),
        )


def client_arrivals(
    scenario: Scenario, rng: np.random.Generator, hours: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival offsets (seconds), stream and client of every ticket, rates read in each
    client's zone: each zone's clients get their weight's share of every stream, at the
    hours of the week of that zone."""
    from thirdway.dispatch.drawing import hour_of_week

    weights = np.array([c.weight for c in scenario.clients])
    zones = sorted({c.zone for c in scenario.clients})
    times, streams, clients = [], [], []
    for zone in zones:
        mine = np.flatnonzero([c.zone == zone for c in scenario.clients])
        share = weights[mine].sum() / weights.sum()
        week_hour = hour_of_week(scenario.start_s, hours, zone)
        for k, stream in enumerate(scenario.arrivals):
            counts = rng.poisson(np.asarray(stream.per_hour)[week_hour] * share)
            n = int(counts.sum())
            times.append(np.repeat(np.arange(hours) * 3600, counts) + rng.uniform(0, 3600, n))
            streams.append(np.full(n, k))
            p = weights[mine] / weights[mine].sum()
            clients.append(mine[rng.choice(len(mine), size=n, p=p)])
    return np.concatenate(times), np.concatenate(streams), np.concatenate(clients)


def client_waits(scenario: Scenario, n: int) -> np.ndarray:
    """Per ticket, how long it waits on the client mid-work (0 for most)."""
    realism = scenario.realism
    if realism.wait_share <= 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    rng = np.random.default_rng([scenario.seed, _LANGUAGE_WAITS])
    waits = realism.wait_median_s * np.exp(realism.wait_sigma * rng.standard_normal(n))
    return np.where(rng.random(n) < realism.wait_share, np.round(waits), 0).astype(np.int64)


def escalations(scenario: Scenario, levels: Sequence[int]) -> np.ndarray:
    """Per ticket (of the given required levels), whether it turns out to need one level
    more; the same for every policy. A ticket at the top level never does."""
    share = scenario.realism.escalation_share
    n = len(levels)
    if share <= 0 or n == 0:
        return np.zeros(n, dtype=bool)
    rng = np.random.default_rng([scenario.seed, _ESCALATION])
    return (rng.random(n) < share) & (np.asarray(levels) < TOP_LEVEL)


def sick_spans(
    scenario: Scenario, shifts: Sequence[Sequence[tuple[int, int]]]
) -> list[list[tuple[int, int]]]:
    """Per partner, the shifts of the run they miss without notice."""
    share = scenario.realism.sick_share
    if share <= 0:
        return [[] for _ in shifts]
    rng = np.random.default_rng([scenario.seed, _SICK])
    lo, hi = scenario.start_s, scenario.end_s
    out = []
    for spans in shifts:
        mine = [(s, e) for s, e in spans if lo <= s < hi]
        draws = rng.random(len(mine))
        out.append([span for span, u in zip(mine, draws, strict=True) if u < share])
    return out


def refuses(scenario: Scenario, ticket_id: int, offer: int) -> bool:
    """Whether the ``offer``-th offer of a ticket goes unanswered; the same for every
    policy, so each meets the same partners' silence."""
    share = scenario.realism.refusal_share
    if share <= 0:
        return False
    rng = np.random.default_rng([scenario.seed, _REFUSAL, ticket_id, offer])
    return bool(rng.random() < share)


def travel_s(scenario: Scenario, practice: str) -> float:
    """Expected drive, out and back, to an on-site ticket of ``practice``: from the
    nearest partner who practises it to a client's site, weighted as clients call."""
    rows = [p for p in scenario.partners if p.level_in(practice) >= 1] or list(scenario.partners)
    lat = np.array([p.home_lat for p in rows])
    lon = np.array([p.home_lon for p in rows])
    total, weight = 0.0, 0.0
    for client in scenario.clients:
        for site in client.sites:
            nearest = float(np.min(haversine_km(lat, lon, *site)))
            total += client.weight / len(client.sites) * nearest
        weight += client.weight
    km = 2.0 * total / max(weight, 1e-9)
    return km / scenario.travel_speed_kmh * 3600
