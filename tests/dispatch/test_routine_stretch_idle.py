"""Routine on-site work (P3, P4) that nobody within half as far again as their radius can
start before it is due goes farther, up to a bound, only to a partner idle now (on shift, not
busy, nothing open) whose own area is quiet, and only while it can still be answered in time;
the explanation says so (docs/dispatch.md, "When nobody is within reach")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from thirdway.dispatch import engine
from thirdway.dispatch.engine import evaluation

from .test_engine import LONDON, NOW, make_partner, make_ticket, north_of, utc

SITE = LONDON
WEDNESDAYS = {"wed": [("09:00", "17:00")]}
FAR = north_of(SITE, 120)  # twice a 60 km radius away: beyond half as far again


def _routine(priority: str = "P3", **overrides: object) -> engine.TicketNeed:
    """Due at 12:00, two hours from now."""
    return make_ticket(
        needs_onsite=True,
        onsite_location=SITE,
        priority=priority,
        response_due_at=NOW + timedelta(hours=2),
        **overrides,
    )


def _serves() -> engine.PartnerState:
    """Serves the site (20 km, radius 60 km) but works on Wednesdays only."""
    return make_partner(1, home_lat=north_of(SITE, 20)[0], radius_km=60, working_hours=WEDNESDAYS)


def _idle(pid: int = 2, **overrides: object) -> engine.PartnerState:
    """120 km from the site, radius 60 km, on shift now with nothing open."""
    values: dict[str, object] = {"home_lat": FAR[0], "radius_km": 60, "open_load": 0}
    values.update(overrides)
    return make_partner(pid, **values)


def _neighbour(pid: int, open_load: int) -> engine.PartnerState:
    """Lives 10 km from the idle partner, in their area; works on Wednesdays only."""
    home = north_of(FAR, 10)
    return make_partner(
        pid, home_lat=home[0], radius_km=60, open_load=open_load, working_hours=WEDNESDAYS
    )


@pytest.mark.parametrize("priority", ["P3", "P4"])
def test_an_idle_partner_in_a_quiet_area_takes_far_routine_work(priority: str) -> None:
    decision = engine.rank(_routine(priority), [_serves(), _idle(), _neighbour(3, 1)], now=NOW)
    chosen = decision.chosen
    assert chosen is not None and chosen.partner_id == 2
    assert chosen.stretched_limits == ("radius",)
    assert chosen.stretched == "radius: site is 120 km away, serves 60 km"
    # their area: themselves with nothing open and the neighbour with 1 of 8, 6 % on average
    assert chosen.stretch_why == (
        "nobody within half as far again as their radius can respond before 12:00 their time; "
        "free now, and their own area is quiet (6% of its capacity in use)"
    )
    assert chosen.explanation.endswith(
        f"beyond their limit: {chosen.stretched}; {chosen.stretch_why}"
    )
    # beyond half as far again: the steeper price, per km beyond the radius
    assert chosen.terms["stretch"] == pytest.approx(20 + 0.1 * 60, abs=0.1)
    # asking about that partner alone gives the same verdict
    assert decision.verdict(2) == chosen


def test_not_while_their_own_area_is_busy() -> None:
    # the neighbour has 4 of 8 open: the area is at 25 %, above the limit
    assert evaluation.STRETCH_IDLE_AREA_LOAD < 0.25
    decision = engine.rank(_routine(), [_serves(), _idle(), _neighbour(3, 4)], now=NOW)
    assert decision.chosen is None
    assert isinstance(decision.verdict(2), engine.Rejection)


@pytest.mark.parametrize(
    "overrides",
    [
        {"open_load": 1},  # something open
        {"free_at": {p: utc(11, 11) for p in engine.PRIORITIES}},  # busy until 11:00
        {"working_hours": {"tue": [("11:00", "17:00")]}},  # on shift from 11:00 only
        # on call, not on shift: kept for urgent work
        {"working_hours": {}, "on_call": ((utc(11, 8), utc(11, 20)),)},
    ],
)
def test_only_a_partner_idle_now(overrides: dict[str, object]) -> None:
    assert engine.rank(_routine(), [_serves(), _idle(**overrides)], now=NOW).chosen is None


def test_not_once_the_response_is_late() -> None:
    # Overdue: a far drive would not make the response on time, only add the drive.
    overdue = make_ticket(
        needs_onsite=True,
        onsite_location=SITE,
        priority="P3",
        created_at=NOW - timedelta(hours=9),
        response_due_at=NOW - timedelta(hours=1),
    )
    assert engine.rank(overdue, [_serves(), _idle()], now=NOW).chosen is None


def test_no_farther_than_the_bound() -> None:
    most = evaluation.STRETCH_IDLE_MOST
    assert most > evaluation.STRETCH_MOST
    beyond = _idle(home_lat=north_of(SITE, 60 * most + 5)[0])
    assert engine.rank(_routine(), [_serves(), beyond], now=NOW).chosen is None
    within = _idle(home_lat=north_of(SITE, 60 * most - 5)[0])
    assert engine.rank(_routine(), [_serves(), within], now=NOW).chosen is not None


def test_not_for_urgent_work() -> None:
    # A P2 stretches radius, level and shift, but the radius no farther than half as far
    # again where someone serves the site.
    assert engine.rank(_routine("P2"), [_serves(), _idle()], now=NOW).chosen is None


def test_a_smaller_stretch_wins_and_nobody_goes_far_when_someone_can_in_time() -> None:
    near = make_partner(4, home_lat=north_of(SITE, 80)[0], radius_km=60, open_load=0)  # 80 km
    decision = engine.rank(_routine(), [_serves(), _idle(), near], now=NOW)
    assert decision.chosen is not None and decision.chosen.partner_id == 4
    assert decision.verdict(2).terms["stretch"] > decision.chosen.terms["stretch"]
    # someone who serves the site and can start in time: no stretch at all
    inside = make_partner(5, home_lat=north_of(SITE, 20)[0], radius_km=60)
    decision = engine.rank(_routine(), [inside, _idle()], now=NOW)
    assert decision.chosen is not None and decision.chosen.partner_id == 5
    assert decision.chosen.stretched is None
