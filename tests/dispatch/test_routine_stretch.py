"""Routine on-site work (P3, P4) that nobody within their radius can start before it is due
may go to a partner beyond theirs, half as far again at most, at the stretch's steep price
and saying so; level and shift stay walls for it (docs/dispatch.md, "When nobody is within
reach")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from thirdway.dispatch import engine

from .test_engine import LONDON, NOW, make_partner, make_ticket, north_of, utc

SITE = LONDON
# Works on Wednesdays only: on this Tuesday they cannot start before a P3 is due.
WEDNESDAYS = {"wed": [("09:00", "17:00")]}


def _routine(priority: str = "P3", **overrides: object) -> engine.TicketNeed:
    return make_ticket(
        needs_onsite=True,
        onsite_location=SITE,
        priority=priority,
        response_due_at=NOW + timedelta(hours=8),
        **overrides,
    )


def _inside(**overrides: object) -> engine.PartnerState:
    """Serves the site: 20 km from it, radius 60 km."""
    values: dict[str, object] = {"home_lat": north_of(SITE, 20)[0], "radius_km": 60}
    values.update(overrides)
    return make_partner(1, **values)


def _beyond(pid: int = 2, km: float = 80, **overrides: object) -> engine.PartnerState:
    """``km`` from the site with a radius of 60 km, on shift now."""
    return make_partner(pid, home_lat=north_of(SITE, km)[0], radius_km=60, **overrides)


@pytest.mark.parametrize("priority", ["P3", "P4"])
def test_routine_work_nobody_inside_can_start_in_time_goes_beyond_a_radius(priority) -> None:
    ticket = _routine(priority)
    decision = engine.rank(ticket, [_inside(working_hours=WEDNESDAYS), _beyond()], now=NOW)
    chosen = decision.chosen
    assert chosen is not None and chosen.partner_id == 2
    assert chosen.stretched_limits == ("radius",)
    assert chosen.stretched == "radius: site is 80 km away, serves 60 km"
    assert chosen.stretch_why == "nobody within their limits can respond before 18:00 their time"
    assert chosen.explanation.endswith(
        "beyond their limit: radius: site is 80 km away, serves 60 km; "
        "nobody within their limits can respond before 18:00 their time"
    )
    # the steep price: more than anyone inside their limits could cost, and per km beyond
    assert chosen.terms["stretch"] == pytest.approx(10 + 0.05 * 20, abs=0.1)
    # the partner who serves it but cannot start in time is rejected, and says why
    assert isinstance(decision.verdict(1), engine.Rejection)


def test_routine_work_waits_for_a_partner_inside_who_can_start_in_time() -> None:
    # Busy until 16:00, before the 18:00 due time: they start it in time, so nobody is
    # sent beyond their radius, however free.
    busy = _inside(free_at={p: utc(11, 16) for p in engine.PRIORITIES})
    decision = engine.rank(_routine(), [busy, _beyond()], now=NOW)
    assert decision.chosen is not None and decision.chosen.partner_id == 1
    assert decision.chosen.stretched is None
    assert isinstance(decision.verdict(2), engine.Rejection)


def test_routine_work_goes_no_farther_than_half_as_far_again_where_someone_serves() -> None:
    # 91 km against a radius of 60: beyond half as far again, while someone serves the site.
    away = _inside(working_hours=WEDNESDAYS)
    assert engine.rank(_routine(), [away, _beyond(km=91)], now=NOW).chosen is None
    # of two beyond their radius, the smaller stretch wins
    decision = engine.rank(_routine(), [away, _beyond(2, km=85), _beyond(3, km=70)], now=NOW)
    assert decision.chosen.partner_id == 3
    assert decision.verdict(2).terms["stretch"] > decision.chosen.terms["stretch"]


def test_only_the_radius_is_stretched_for_routine_work() -> None:
    away = _inside(working_hours=WEDNESDAYS)
    # the partner beyond their radius must still be able to start before it is due,
    late = _beyond(working_hours=WEDNESDAYS)
    assert engine.rank(_routine(), [away, late], now=NOW).chosen is None
    # hold the skill at the level needed, and have room for it.
    novice = _beyond(skills={"security": 2})
    full = _beyond(3, open_load=8)
    assert engine.rank(_routine(), [away, novice, full], now=NOW).chosen is None
    # Urgent work may take the one a level short within their radius; routine work never.
    short = _inside(skills={"security": 2})
    assert engine.rank(_routine("P2"), [short], now=NOW).chosen.stretched_limits == ("level",)
    assert engine.rank(_routine(), [short], now=NOW).chosen is None


def test_remote_routine_work_is_never_stretched() -> None:
    ticket = make_ticket(priority="P3", response_due_at=NOW + timedelta(hours=8))
    off = make_partner(1, working_hours=WEDNESDAYS)
    assert engine.rank(ticket, [off], now=NOW).chosen is None
