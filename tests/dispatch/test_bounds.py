"""The offline bounds: who may start a ticket in each, and the relaxed bound that answers
for large weeks while staying above the exact one."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from thirdway.dispatch import bound, scenario, simulator
from thirdway.distance import haversine_km

from .test_simulator import tiny

SITE = (51.5, -0.12)


def _ticket(priority: str, level: int = 2, onsite: bool = True) -> scenario.SimTicket:
    return scenario.SimTicket(
        id=1,
        arrival_s=0,
        practice="security",
        priority=priority,
        level=level,
        client=0,
        site=SITE,
        onsite=onsite,
        desk_first=False,
        work_s=3600,
        response_due_s=3600,
        resolution_due_s=7200,
    )


def _pool(*where: tuple[tuple[float, float], float]) -> SimpleNamespace:
    """Tiny's three partners (security 4, 2 and 5), each at a home and with a radius given
    as the ratio of their distance to the site."""
    states = simulator.Partners(scenario.parse(tiny())).states
    out = []
    for state, (home, ratio) in zip(states, where, strict=True):
        distance = float(haversine_km(*home, *SITE))
        out.append(replace(state, home_lat=home[0], home_lon=home[1], radius_km=distance / ratio))
    return SimpleNamespace(states=out)


def _rows(pool: SimpleNamespace, ticket: scenario.SimTicket, kind: str) -> list:
    return bound._eligible(pool, ticket, kind)


def test_within_radius_keeps_to_the_radius_where_someone_serves_the_site():
    # partner 1 within their radius, 2 at 1.6 times theirs, 3 at 1.4 times
    pool = _pool(((51.51, -0.12), 0.5), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.4))
    assert _rows(pool, _ticket("P3"), "qualified") == [(0, 0), (1, 0), (2, 0)]
    assert _rows(pool, _ticket("P3"), "within_radius") == [(0, 0)]
    # urgent work may go half as far again (the engine stretches it when nobody is in time)
    assert _rows(pool, _ticket("P1"), "within_radius") == [(0, 0), (2, 0)]
    # and one level below, at the slower pace; routine work never
    remote = _ticket("P1", level=3, onsite=False)
    assert _rows(pool, remote, "within_radius") == [(0, 0), (1, 1), (2, 0)]
    assert _rows(pool, _ticket("P3", level=3, onsite=False), "within_radius") == [(0, 0), (2, 0)]


def test_where_nobody_serves_the_site_the_radius_stretches_for_any_work():
    nobody = _pool(((52.5, -0.12), 2.2), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.4))
    assert _rows(nobody, _ticket("P3"), "within_radius") == [(2, 0)]
    far = _pool(((52.5, -0.12), 2.2), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.7))
    assert _rows(far, _ticket("P3"), "within_radius") == [(0, 0), (1, 0), (2, 0)]


def test_the_language_holds_in_every_bound():
    pool = _pool(((51.51, -0.12), 0.5), ((51.6, -0.3), 0.5), ((51.4, 0.1), 0.5))
    pool.states[1] = replace(pool.states[1], languages=frozenset({"de"}))
    german = replace(_ticket("P3", level=1), language="de")
    for kind in bound.KINDS:
        assert [row for row, _ in _rows(pool, german, kind)] == [1], kind


@pytest.fixture(scope="module")
def tiny_week():
    model = scenario.parse(tiny(horizon_days=3, bound={"max_tickets": 400}))
    partners = simulator.Partners(model)
    return model, partners, scenario.draw_tickets(model)


@pytest.mark.parametrize("kind", bound.KINDS)
def test_the_relaxed_bound_is_above_the_exact_one(tiny_week, kind):
    model, partners, tickets = tiny_week
    exact = bound.bound(model, partners, tickets, kind)
    relaxed = bound.relaxed_bound(model, partners, tickets, kind)
    assert exact["optimal"] and not relaxed["optimal"] and relaxed["relaxed"]
    assert exact["on_time"] <= relaxed["on_time"] <= len(tickets)
    assert relaxed["days"] >= 2


def test_a_large_run_gets_the_relaxed_bound_when_the_scenario_asks(tiny_week):
    model, partners, tickets = tiny_week
    small = replace(model, bound_max_tickets=1)
    assert "skipped" in bound.offline_bound(small, partners, tickets)
    relaxed = bound.offline_bound(replace(small, bound_relaxed=True), partners, tickets)
    assert set(relaxed) == set(bound.KINDS)
    assert all(b["relaxed"] and not b["optimal"] for b in relaxed.values())
    document = tiny(bound={"max_tickets": 10, "relaxed": True})
    assert scenario.parse(document).bound_relaxed
