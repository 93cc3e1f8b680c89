"""Storms: tickets of one incident linked under a parent, and surge mode deferring P4 work."""

from __future__ import annotations

import pytest

from thirdway.dispatch import comparison, drawing, engine, policies, scenario, simulator, storms
from thirdway.dispatch.storms import IncidentTicket, link_incident

from .test_simulator import OFFICE, tiny

# --------------------------------------------------------------------------- the pure rules


def t(id_: int, at_s: int, client: str = "a", practice: str = "network", **kw) -> IncidentTicket:
    return IncidentTicket(id_, client, practice, at_s, **kw)


def test_a_repeat_within_the_window_links_under_the_first_ticket():
    first, second = t(1, 0), t(2, 300)
    assert link_incident(t(3, 600), [second, first], 900) == 1


def test_another_client_skill_site_or_asset_or_a_late_repeat_is_not_linked():
    parent = t(1, 0, site=(51.5, -0.1), asset="fw-1")
    assert link_incident(t(2, 60, client="b"), [parent]) is None
    assert link_incident(t(2, 60, practice="backup"), [parent]) is None
    assert link_incident(t(2, 60, site=(52.0, 0.0)), [parent]) is None
    assert link_incident(t(2, 60, asset="fw-2"), [parent]) is None
    assert link_incident(t(2, 901), [parent], 900) is None
    # unknown on one side does not separate them
    assert link_incident(t(2, 60), [parent]) == 1
    assert link_incident(t(2, 60, site=(51.5, -0.1), asset="fw-1"), [parent]) == 1


def test_a_linked_ticket_is_never_a_parent():
    child = t(2, 100, parent=1)
    assert link_incident(t(3, 200), [child]) is None


def test_surge_compares_waiting_work_with_partners_on_cover():
    assert not storms.in_surge(4, 2, 2.0)
    assert storms.in_surge(5, 2, 2.0)
    assert storms.in_surge(3, 0, 2.0)  # nobody covered counts as one
    assert storms.deferred_in_surge("P4")
    assert not storms.deferred_in_surge("P3")
    assert storms.deferred_in_surge("P3", defer_p3=True)
    assert not storms.deferred_in_surge("P1", defer_p3=True)
    with pytest.raises(ValueError):
        storms.in_surge(1, 1, 0)


# --------------------------------------------------------------------------- in the simulator


def storm_doc(**dispatch: object) -> dict:
    """One client with one site sending a burst of security tickets on Tuesday morning."""
    document = tiny()
    document["clients"] = [document["clients"][0]]
    rates = [0.0] * 168
    rates[24 + 9 : 24 + 11] = [12.0, 12.0]  # Tuesday 09:00-11:00 UTC
    document["arrivals"] = [
        {"practice": "security", "priority": "P3", "per_hour": rates},
        {"practice": "security", "priority": "P4", "per_hour": [r / 2 for r in rates]},
    ]
    document["dispatch"] = dispatch
    return document


def runs_of(document: dict, names: tuple[str, ...] = ("thirdway", "priority_fcfs")) -> dict:
    model = scenario.parse(document)
    _, tickets, runs = comparison.run_policies(model, names)
    return {"tickets": tickets, "model": model, **runs}


def outcome(run) -> list[tuple]:
    return [(j.ticket.id, j.partner, j.started_s, j.finished_s) for j in run.jobs]


def test_with_the_switches_off_a_fixed_scenario_gives_identical_results():
    before = runs_of(tiny())
    explicit = runs_of(tiny(dispatch={"link_incidents": False, "surge": False}))
    for name in ("thirdway", "priority_fcfs"):
        assert outcome(before[name]) == outcome(explicit[name])


def test_linked_tickets_are_answered_when_the_parent_starts_and_resolved_with_it():
    result = runs_of(storm_doc(link_incidents=True, link_window_minutes=15))
    plain = runs_of(storm_doc())
    for name in ("thirdway", "priority_fcfs"):
        run = result[name]
        worked = {r.ticket_id for r in run.records}
        linked = [j for j in run.jobs if j.ticket.id not in worked]
        assert linked, "a burst from one client and site links tickets"
        by_id = {j.ticket.id: j for j in run.jobs}
        for child in linked:
            parent = min(
                (
                    j
                    for j in run.jobs
                    if j.ticket.id in worked
                    and j.ticket.arrival_s <= child.ticket.arrival_s
                    and child.ticket.arrival_s - j.ticket.arrival_s <= 900
                    and j.finished_s == child.finished_s
                ),
                key=lambda j: j.ticket.arrival_s,
            )
            assert child.started_s == max(parent.started_s, child.ticket.arrival_s)
            assert child.travel_km == 0
            assert by_id[parent.ticket.id].partner == child.partner
        # fewer tickets worked, so every ticket is answered sooner than without linking
        assert len(run.records) < len(plain[name].records)
        assert sum(j.started_s - j.ticket.arrival_s for j in run.jobs) < sum(
            j.started_s - j.ticket.arrival_s for j in plain[name].jobs
        )


def test_a_ticket_is_never_linked_under_a_less_urgent_one():
    document = storm_doc(link_incidents=True)
    document["arrivals"][0]["priority"] = "P1"
    run = runs_of(document)["thirdway"]
    worked = {r.ticket_id for r in run.records}
    p1_parents = {
        (j.partner, j.finished_s)
        for j in run.jobs
        if j.ticket.id in worked and j.ticket.priority == "P1"
    }
    linked_p1 = [j for j in run.jobs if j.ticket.id not in worked and j.ticket.priority == "P1"]
    assert linked_p1
    assert all((j.partner, j.finished_s) in p1_parents for j in linked_p1)
    # P4 repeats do link, under P1 or P4 parents alike
    assert any(j.ticket.id not in worked for j in run.jobs if j.ticket.priority == "P4")


def test_surge_defers_p4_work_until_the_queue_is_back_under_the_threshold():
    names = ("thirdway", "priority_fcfs", "skill_least_loaded")
    calm = runs_of(storm_doc(), names)
    surge = runs_of(storm_doc(surge=True, surge_ratio=1), names)
    for name in names:
        first = {r.ticket_id: r.at_s for r in reversed(surge[name].records)}
        calm_first = {r.ticket_id: r.at_s for r in reversed(calm[name].records)}
        p4 = [j for j in surge[name].jobs if j.ticket.priority == "P4"]
        held = [j for j in p4 if first[j.ticket.id] > j.ticket.arrival_s]
        assert held, "P4 tickets arriving in the storm wait"
        assert all(j.finished_s is not None for j in surge[name].jobs)
        if name == "skill_least_loaded":  # pull policies take P4 work last anyway
            assert sum(first[j.ticket.id] for j in p4) > sum(calm_first[j.ticket.id] for j in p4)

    def p3_wait(run) -> float:
        mine = [j for j in run.jobs if j.ticket.priority == "P3"]
        return sum(j.started_s - j.ticket.arrival_s for j in mine) / len(mine)

    # a push policy no longer fills partners' queues with P4 work ahead of later P3s
    assert p3_wait(surge["skill_least_loaded"]) < 0.8 * p3_wait(calm["skill_least_loaded"])


def test_surge_settings_are_checked():
    document = storm_doc(surge=True, surge_ratio=0)
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(document)
    assert "dispatch.surge_ratio" in dict(caught.value.problems)
    assert OFFICE  # the tiny scenario's office hours are shared


def test_thirdway_tells_the_engine_when_the_skill_of_a_ticket_is_in_surge():
    """Whether or not the scenario holds work back in a surge, the policy tells the engine
    (``TicketNeed.surge``) by the same rule: more tickets not started than twice the partners
    covered, and more than ``DRIVE_SURGE_LEAST`` of them (a few are no storm)."""
    model = scenario.parse(storm_doc())
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    sim = simulator.Simulation(
        model, simulator.Partners(model), drawing.draw_tickets(model), policy
    )
    policy.start(sim)
    sim.now = model.start_s + 10 * 3600  # Tuesday 10:00: one security partner of three is on
    least = storms.DRIVE_SURGE_LEAST
    sim.waiting = list(range(least))  # over twice the one partner, but only a few
    assert "security" not in policy.surge
    assert not policy.need(sim, least).surge
    sim.now += 60
    sim.waiting = list(range(least + 1))
    assert "security" in policy.surge
    assert policy.need(sim, least + 1).surge
    sim.now += 60
    sim.jobs[least].started_s = sim.now  # started work no longer waits
    assert "security" not in policy.surge


def test_the_drive_weighs_as_in_a_surge_only_past_a_few_tickets():
    least = storms.DRIVE_SURGE_LEAST
    assert storms.in_surge(least, 1, 2.0) and not storms.drive_in_surge(least, 1, 2.0)
    assert storms.drive_in_surge(least + 1, 1, 2.0)
    assert not storms.drive_in_surge(least + 1, 5, 2.0)  # fewer than twice the partners on
