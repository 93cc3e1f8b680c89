"""The offline bounds: who may start a ticket in each, and the relaxed bound that answers
for large weeks while staying above the exact one (and so above every policy it holds for)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from thirdway.dispatch import bound, comparison, drawing, scenario, simulator
from thirdway.dispatch import bound_relaxed as relaxed
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


def test_within_radius_keeps_to_half_as_far_again_where_someone_serves_the_site():
    # partner 1 within their radius, 2 at 1.6 times theirs, 3 at 1.4 times
    pool = _pool(((51.51, -0.12), 0.5), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.4))
    assert _rows(pool, _ticket("P3"), "qualified") == [(0, 0), (1, 0), (2, 0)]
    # urgent work may go half as far again (the engine stretches it when nobody is in time),
    assert _rows(pool, _ticket("P1"), "within_radius") == [(0, 0), (2, 0)]
    # routine work 2.5 times as far (to a partner idle in a quiet area)
    assert _rows(pool, _ticket("P3"), "within_radius") == [(0, 0), (1, 0), (2, 0)]
    farther = _pool(((51.51, -0.12), 0.5), ((51.6, -0.3), 2.6), ((51.4, 0.1), 1.4))
    assert _rows(farther, _ticket("P3"), "within_radius") == [(0, 0), (2, 0)]
    # and one level below, at the slower pace; routine work never
    remote = _ticket("P1", level=3, onsite=False)
    assert _rows(pool, remote, "within_radius") == [(0, 0), (1, 1), (2, 0)]
    assert _rows(pool, _ticket("P3", level=3, onsite=False), "within_radius") == [(0, 0), (2, 0)]


def test_where_nobody_serves_the_site_the_radius_stretches_for_any_work():
    nobody = _pool(((52.5, -0.12), 2.2), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.4))
    assert _rows(nobody, _ticket("P2"), "within_radius") == [(2, 0)]
    far = _pool(((52.5, -0.12), 2.2), ((51.6, -0.3), 1.6), ((51.4, 0.1), 1.7))
    assert _rows(far, _ticket("P3"), "within_radius") == [(0, 0), (1, 0), (2, 0)]


def test_the_language_holds_in_every_bound():
    pool = _pool(((51.51, -0.12), 0.5), ((51.6, -0.3), 0.5), ((51.4, 0.1), 0.5))
    pool.states[1] = replace(pool.states[1], languages=frozenset({"de"}))
    german = replace(_ticket("P3", level=1), language="de")
    for kind in bound.KINDS:
        assert [row for row, _ in _rows(pool, german, kind)] == [1], kind


def _busy(**overrides: object) -> dict:
    """Tiny over two days at three times its rate: busy enough that not every ticket can
    be answered in time, small enough for the exact MILP."""
    document = tiny(horizon_days=2, bound={"max_tickets": 400, "time_limit_s": 60}, **overrides)
    for stream in document["arrivals"]:
        stream["per_hour"] *= 3
    return document


@pytest.fixture(scope="module")
def tiny_week():
    model = scenario.parse(_busy())
    partners = simulator.Partners(model)
    tickets = drawing.draw_tickets(model)
    exact = {kind: bound.bound(model, partners, tickets, kind) for kind in bound.KINDS}
    return model, partners, tickets, exact


def test_the_busy_week_is_one_the_exact_bound_answers_below_every_ticket(tiny_week):
    _, _, tickets, exact = tiny_week
    assert all(found["optimal"] for found in exact.values())
    assert exact["qualified"]["on_time"] < len(tickets)


@pytest.mark.parametrize("kind", bound.KINDS)
def test_any_prices_on_the_slots_give_an_upper_bound(tiny_week, kind):
    model, partners, tickets, exact = tiny_week
    starts = relaxed.Starts.of(bound._variables(model, partners, tickets, kind), len(partners))
    rng = np.random.default_rng(7)
    for scale in (0.0, 0.05, 0.3, 1.0, 3.0):
        prices = scale * rng.random((starts.partners, starts.width))
        value, margin = relaxed.lagrangian(starts, prices)
        assert value >= exact[kind]["on_time"] - 1e-9, scale
        # and the greedy schedule from any prices is one the model admits
        assert relaxed.schedule_on_time(starts, margin) <= exact[kind]["on_time"]


@pytest.mark.parametrize("kind", bound.KINDS)
@pytest.mark.parametrize(
    ("piece_hours", "solver"), [(12, "ipm"), (24, "simplex"), (6, "ipm-crossover"), (3, "ipm")]
)
def test_the_relaxed_bound_is_above_the_exact_one(tiny_week, kind, piece_hours, solver):
    model, partners, tickets, exact = tiny_week
    found = relaxed.relaxed_bound(
        model, partners, tickets, kind, piece_hours=piece_hours, solver=solver
    )
    assert not found["optimal"] and found["relaxed"] and found["pieces_unsolved"] == 0
    assert found["schedule_on_time"] <= exact[kind]["on_time"] <= found["on_time"]
    assert found["on_time"] <= len(tickets)
    assert found["value"] <= min(found["piece_prices_value"], found["with_a_start"])
    assert found["pieces"] >= 2 * 24 / piece_hours


def test_the_relaxed_bounds_are_above_every_policy_they_hold_for(tiny_week):
    model, partners, tickets, _ = tiny_week
    found = {kind: relaxed.relaxed_bound(model, partners, tickets, kind) for kind in bound.KINDS}
    _, _, runs = comparison.run_policies(model)
    attained = {
        name: comparison.metrics(run, model, partners)["response_sla"] for name, run in runs.items()
    }
    assert min(attained.values()) < 100
    for name, value in attained.items():
        assert found["any_team_member"]["response_sla"] >= value, name
    for name in ("skill_least_loaded", "nearest_qualified", "priority_fcfs"):
        assert found["qualified"]["response_sla"] >= attained[name], name
    calm = scenario.parse(_busy(dispatch={"preempt": False}))
    _, _, calm_runs = comparison.run_policies(calm, ("thirdway",))
    thirdway = comparison.metrics(calm_runs["thirdway"], calm, partners)["response_sla"]
    assert found["within_radius"]["response_sla"] >= thirdway


def test_a_large_run_gets_the_relaxed_bound_when_the_scenario_asks(tiny_week):
    model, partners, tickets, _ = tiny_week
    small = replace(model, bound_max_tickets=1)
    assert "skipped" in bound.offline_bound(small, partners, tickets)
    found = bound.offline_bound(replace(small, bound_relaxed=True), partners, tickets)
    assert set(found) == set(bound.KINDS)
    assert all(b["relaxed"] and not b["optimal"] for b in found.values())
    document = tiny(bound={"max_tickets": 10, "relaxed": True})
    assert scenario.parse(document).bound_relaxed
