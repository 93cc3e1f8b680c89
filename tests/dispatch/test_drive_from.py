"""The drive to an on-site ticket is measured from where the partner will be: the visit they
drive on from (``PartnerState.drive_from``), else home; for the travel term and the radius."""

from __future__ import annotations

import pytest

from thirdway.dispatch import engine
from thirdway.dispatch.engine.evaluation import TRAVEL_IN_TIME, TRAVEL_ROUTINE

from .test_engine import LONDON, NOW, make_partner, make_ticket, north_of, utc

SITE = north_of(LONDON, 70)  # 70 km north of both partners' homes in London
VISIT = engine.Visit(north_of(LONDON, 60), "the site of TW-10012")


def _onsite(**overrides: object) -> engine.TicketNeed:
    return make_ticket(needs_onsite=True, onsite_location=SITE, **overrides)


def _out(pid: int = 1, priorities: tuple[str, ...] = engine.PRIORITIES, **overrides: object):
    """A partner out on a visit 60 km north of home, 10 km short of the site."""
    values: dict[str, object] = {"radius_km": 80, **overrides}
    return make_partner(pid, drive_from=dict.fromkeys(priorities, VISIT), **values)


def test_the_travel_term_counts_the_drive_from_the_visit_not_from_home() -> None:
    decision = engine.rank(_onsite(), [make_partner(2, radius_km=80), _out(1)], now=NOW)
    out, home = decision.verdict(1), decision.verdict(2)
    assert out.distance_km == pytest.approx(10, abs=0.1)
    assert home.distance_km == pytest.approx(70, abs=0.1)
    assert out.terms["travel"] == pytest.approx(TRAVEL_IN_TIME * 10 / 40, abs=0.01)
    assert home.terms["travel"] == pytest.approx(TRAVEL_IN_TIME * 70 / 40, abs=0.01)
    assert decision.chosen.partner_id == 1


def test_the_explanation_names_the_visit_the_drive_is_from() -> None:
    decision = engine.rank(_onsite(), [_out(1), make_partner(2, radius_km=80)], now=NOW)
    assert decision.verdict(1).drive_from == "the site of TW-10012"
    assert "; 10 km drive from the site of TW-10012;" in decision.verdict(1).explanation
    assert "; 70 km; " in decision.verdict(2).explanation
    assert decision.verdict(2).drive_from is None


def test_the_visit_counts_only_for_the_priorities_it_is_given_for() -> None:
    # Out for a P1 (they take it next), home for routine work (after their shift's visits).
    partner = _out(1, ("P1",))
    p1 = engine.rank(_onsite(priority="P1"), [partner], now=NOW).chosen
    p3 = engine.rank(_onsite(priority="P3"), [partner], now=NOW).chosen
    assert p1.distance_km == pytest.approx(10, abs=0.1)
    assert p3.distance_km == pytest.approx(70, abs=0.1)


def test_a_site_beyond_the_radius_is_within_reach_on_from_a_visit_near_it() -> None:
    # Radius 50: the site is 70 km from home (1.4 times the radius) and 10 km from the visit.
    ticket = _onsite()
    assert engine.reject_radius(ticket, make_partner(radius_km=50)) == (
        "radius: site is 70 km away, serves 50 km"
    )
    assert engine.reject_radius(ticket, _out(radius_km=50)) is None
    decision = engine.rank(ticket, [_out(1, radius_km=50)], now=NOW)
    assert decision.chosen is not None and decision.chosen.stretched is None


def test_a_visit_does_not_carry_a_partner_past_half_as_far_again_as_their_radius() -> None:
    # Radius 40: the site is 70 km from home, beyond 1.5 times 40, though 10 km from the visit.
    ticket = _onsite()
    assert engine.reject_radius(ticket, _out(radius_km=40)) == (
        "radius: site is 70 km away, serves 40 km"
    )
    index = engine.PartnerIndex([_out(1, radius_km=40)], start=NOW)
    ev = engine.evaluate(ticket, index, engine.Weights(), engine.epoch(NOW))
    assert bool(ev.failures["radius"][0])


def test_a_site_within_the_radius_of_home_stays_within_reach_from_a_far_visit() -> None:
    # The visit is 60 km north; the site 20 km south of home: 80 km from the visit.
    ticket = make_ticket(needs_onsite=True, onsite_location=north_of(LONDON, -20))
    partner = _out(radius_km=50)
    assert engine.reject_radius(ticket, partner) is None
    chosen = engine.rank(ticket, [partner], now=NOW).chosen
    assert chosen.distance_km == pytest.approx(80, abs=0.1)
    assert chosen.stretched is None


def test_remote_work_has_no_drive_whatever_the_visit() -> None:
    chosen = engine.rank(make_ticket(), [_out()], now=NOW).chosen
    assert chosen.distance_km is None and chosen.terms["travel"] == 0
    assert "drive from" not in chosen.explanation


def test_an_index_takes_new_visits_with_the_loads_and_can_clear_them() -> None:
    index = engine.PartnerIndex([make_partner(1, radius_km=80)], start=NOW)
    out = index.with_loads({}, drive_from={1: dict.fromkeys(engine.PRIORITIES, VISIT)})
    back = out.with_loads({}, drive_from={1: {}})
    assert engine.rank(_onsite(), index, now=NOW).chosen.distance_km == pytest.approx(70, abs=0.1)
    assert engine.rank(_onsite(), out, now=NOW).chosen.distance_km == pytest.approx(10, abs=0.1)
    assert engine.rank(_onsite(), back, now=NOW).chosen.distance_km == pytest.approx(70, abs=0.1)
    # The original is untouched, and the distances match a plain list's.
    assert index.partners[0].drive_from == {}
    direct = engine.rank(_onsite(), [_out(1)], now=NOW)
    assert engine.rank(_onsite(), out, now=NOW).chosen.total == direct.chosen.total


@pytest.mark.parametrize(
    "drive_from",
    [
        {"P5": VISIT},
        {"P1": (51.0, 0.0)},
    ],
)
def test_a_partner_state_refuses_bad_visits(drive_from: dict) -> None:
    with pytest.raises(ValueError, match="drive_from"):
        make_partner(drive_from=drive_from)


def test_a_visit_refuses_a_location_off_the_globe() -> None:
    with pytest.raises(ValueError, match="visit location"):
        engine.Visit((91.0, 0.0), "nowhere")


def test_the_drive_counts_for_more_when_it_cannot_make_the_ticket_late() -> None:
    """In time: the weight times TRAVEL_IN_TIME, routine work times TRAVEL_ROUTINE more; a
    partner who could start only in the second half of the response time: the plain weight."""
    home = make_partner(2, radius_km=80)
    in_time = engine.rank(_onsite(), [home], now=NOW).chosen
    routine = engine.rank(_onsite(priority="P3"), [home], now=NOW).chosen
    assert in_time.terms["travel"] == pytest.approx(TRAVEL_IN_TIME * 70 / 40, abs=0.01)
    assert routine.terms["travel"] == pytest.approx(
        TRAVEL_ROUTINE * TRAVEL_IN_TIME * 70 / 40, abs=0.01
    )
    late = make_partner(2, radius_km=80, free_at=dict.fromkeys(engine.PRIORITIES, utc(11, 11)))
    at_risk = engine.rank(_onsite(response_due_at=utc(11, 11, 30)), [late], now=NOW).chosen
    assert at_risk.terms["travel"] == pytest.approx(70 / 40, abs=0.01)


def test_in_a_surge_of_its_skill_routine_work_weighs_the_drive_as_urgent_work_does() -> None:
    """A P3 whose skill is in surge: the in-time factor only, not the routine one; urgent
    work and a partner who would start late are weighed as without the surge."""
    home = make_partner(2, radius_km=80)
    routine = engine.rank(_onsite(priority="P3", surge=True), [home], now=NOW).chosen
    urgent = engine.rank(_onsite(surge=True), [home], now=NOW).chosen
    assert routine.terms["travel"] == pytest.approx(TRAVEL_IN_TIME * 70 / 40, abs=0.01)
    assert urgent.terms["travel"] == pytest.approx(TRAVEL_IN_TIME * 70 / 40, abs=0.01)
    late = make_partner(2, radius_km=80, free_at=dict.fromkeys(engine.PRIORITIES, utc(11, 11)))
    due = utc(11, 11, 30)
    at_risk = engine.rank(
        _onsite(priority="P3", surge=True, response_due_at=due), [late], now=NOW
    ).chosen
    assert at_risk.terms["travel"] == pytest.approx(70 / 40, abs=0.01)
