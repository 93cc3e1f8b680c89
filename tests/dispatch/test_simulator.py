"""The dispatch simulator: scenario validation, determinism, invariants, the offline bound,
and ``thirdway simulate`` run as a user runs it. Scenarios here are tiny so the suite stays
fast; the big runs live in bench/simulate.py."""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from thirdway.dispatch import comparison, drawing, engine, policies, scenario, simulator

OFFICE = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def tiny(**overrides: object) -> dict:
    """Three partners, two clients, one practice, one Tuesday of arrivals."""
    document = {
        "name": "tiny",
        "start": "2025-03-11T00:00:00Z",
        "horizon_days": 1,
        "drain_days": 2,
        "seed": 11,
        "partners": [
            {
                "id": 1,
                "skills": {"security": 4},
                "home": {"lat": 51.5, "lon": -0.12},
                "zone": "Europe/London",
                "hours": OFFICE,
                "capacity": 3,
            },
            {
                "id": 2,
                "skills": {"security": 2},
                "home": {"lat": 51.6, "lon": -0.3},
                "zone": "Europe/London",
                "hours": {"tue": [["12:00", "20:00"]]},
                "capacity": 2,
                "on_call": [{"start": "2025-03-11T18:00:00Z", "end": "2025-03-12T08:00:00Z"}],
            },
            {
                "id": 3,
                "skills": {"security": 5},
                "home": {"lat": 51.4, "lon": 0.1},
                "zone": "Europe/London",
                "hours": OFFICE,
                "capacity": 2,
                "absences": [{"start": "2025-03-11T00:00:00Z", "end": "2025-03-11T13:00:00Z"}],
            },
        ],
        "clients": [
            {
                "id": "a",
                "zone": "Europe/London",
                "sites": [{"lat": 51.52, "lon": -0.1}],
                "lead_partner": 1,
            },
            {"id": "b", "zone": "Europe/London", "sites": [{"lat": 51.45, "lon": -0.2}]},
        ],
        "arrivals": [
            {"practice": "security", "priority": "P1", "per_hour": 0.15, "onsite_share": 0.3},
            {
                "practice": "security",
                "priority": "P3",
                "per_hour": 0.8,
                "onsite_share": 0.3,
                "levels": [0.3, 0.3, 0.2, 0.2, 0],
            },
        ],
        "service_times": [{"median_minutes": 50, "sigma": 0.5}],
        "sla_policies": {
            "P1": {"response_hours": 1, "resolution_hours": 4},
            "P2": {"response_hours": 2, "resolution_hours": 8, "hours": OFFICE},
            "P3": {"response_hours": 4, "resolution_hours": 16, "hours": OFFICE},
            "P4": {"response_hours": 8, "resolution_hours": 40, "hours": OFFICE},
        },
        "bound": {"max_tickets": 100, "time_limit_s": 20},
    }
    document.update(overrides)
    return copy.deepcopy(document)


def problems_of(document: dict) -> dict[str, str]:
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(document)
    return dict(caught.value.problems)


# --------------------------------------------------------------------------- bad input


def test_a_bad_shift_is_named_by_its_path():
    document = tiny()
    document["partners"][1]["hours"] = {"mon": [["9:00", "17:00"]]}
    problems = problems_of(document)
    assert "partners[1].hours.mon[0][0]" in problems
    assert "HH:MM" in problems["partners[1].hours.mon[0][0]"]


def test_an_unknown_weekday_and_a_missing_field_are_reported_together():
    document = tiny()
    document["partners"][0]["hours"] = {"monday": [["09:00", "17:00"]]}
    del document["partners"][2]["capacity"]
    problems = problems_of(document)
    assert "monday" in problems["partners[0].hours"]
    assert "'capacity' is a required property" in problems["partners[2]"]


def test_what_a_schema_cannot_check_is_named_by_its_path_too():
    document = tiny()
    document["partners"][0]["zone"] = "Europe/Atlantis"
    document["partners"][1]["hours"] = {"tue": [["12:00", "12:00"]]}
    document["clients"][1]["lead_partner"] = 99
    document["service_times"] = [{"priority": "P1", "median_minutes": 30, "sigma": 0.4}]
    document["partners"][2]["absences"][0]["end"] = "2025-03-10T00:00:00Z"
    problems = problems_of(document)
    assert "Europe/Atlantis" in problems["partners[0].zone"]
    assert "empty shift" in problems["partners[1].hours.tue[0]"]
    assert "99" in problems["clients[1].lead_partner"]
    assert "security P3" in problems["arrivals[1]"]
    assert "end after" in problems["partners[2].absences[0]"]


def test_rates_must_be_one_number_or_one_per_hour_of_the_week():
    document = tiny()
    document["arrivals"][0]["per_hour"] = [1.0] * 24
    assert "arrivals[0].per_hour" in problems_of(document)


def test_paths_read_like_the_document():
    assert scenario.json_path(["partners", 3, "hours", "mon"]) == "partners[3].hours.mon"
    assert scenario.json_path([]) == ""


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def tiny_runs():
    model = scenario.parse(tiny())
    return model, *comparison.run_policies(model)


def outcome(run: simulator.Run) -> list[tuple]:
    return [(j.ticket.id, j.partner, j.started_s, j.finished_s, j.reassignments) for j in run.jobs]


def test_the_same_seed_gives_the_same_run(tiny_runs):
    _, _, tickets, runs = tiny_runs
    _, again_tickets, again = comparison.run_policies(scenario.parse(tiny()))
    assert tickets == again_tickets
    for name in policies.POLICIES:
        assert outcome(runs[name]) == outcome(again[name])


def test_another_seed_gives_other_arrivals(tiny_runs):
    _, _, tickets, _ = tiny_runs
    assert drawing.draw_tickets(scenario.parse(tiny(seed=12))) != tickets


def test_every_policy_sees_the_same_tickets_and_accounts_for_each(tiny_runs):
    _, _, tickets, runs = tiny_runs
    assert len(tickets) >= 10
    for run in runs.values():
        assert [j.ticket for j in run.jobs] == tickets
        for job in run.jobs:
            if job.started_s is None:
                assert job.reason, f"{run.policy} lost ticket {job.ticket.id}"
            else:
                assert job.started_s >= job.ticket.arrival_s


def stretched_limits(explanation: str) -> tuple[str, ...]:
    """The limits an explanation says were stretched, e.g. ("radius",)."""
    if "beyond their limit: " not in explanation:
        return ()
    parts = explanation.split("beyond their limit: ", 1)[1].split("; ")
    named = {part.split(":", 1)[0] for part in parts}
    return tuple(name for name in engine.evaluation.LIMITS if name in named)


def test_thirdway_never_assigns_against_a_hard_filter(tiny_runs):
    _, partners, tickets, runs = tiny_runs
    by_id = {t.id: t for t in tickets}
    records = runs["thirdway"].records
    assert records
    for record in records:
        if record.escalated:
            continue  # allowed, and recorded as such
        ticket = by_id[record.ticket_id]
        partner = replace(partners.states[record.partner_row], open_load=record.load_before)
        need = engine.TicketNeed(
            id=ticket.id,
            practice=ticket.practice,
            required_level=ticket.level,
            priority=ticket.priority,
            created_at=scenario.at(ticket.arrival_s),
            response_due_at=scenario.at(ticket.response_due_s),
            resolution_due_at=scenario.at(ticket.resolution_due_s),
            needs_onsite=ticket.onsite,
            onsite_location=ticket.site if ticket.onsite else None,
        )
        now = scenario.at(record.at_s)
        stretched = stretched_limits(record.explanation)
        if stretched:  # an urgent ticket nobody within their limits could take in time
            assert need.priority in engine.evaluation.STRETCH_PRIORITIES
        if "level" in stretched:
            assert partner.level_in(need.practice) == need.required_level - 1
        else:
            assert engine.reject_skill(need, partner) is None
        if "radius" in stretched:
            distance = engine.haversine_km(partner.home_lat, partner.home_lon, *ticket.site)
            assert distance <= partner.radius_km * engine.evaluation.STRETCH_MOST
        else:
            assert engine.reject_radius(need, partner) is None
        if "shift" in stretched:
            assert "called in off shift now" in record.explanation
            continue
        if record.explanation.startswith(policies.PULLED):
            # Taken by a partner coming free, to start at once: capacity does not hold.
            assert partners.next_cover(record.partner_row, record.at_s) == record.at_s
            continue
        assert engine.reject_capacity(need, partner) is None
        assert engine.reject_availability(need, partner, now) is None
        assert record.explanation


def test_partners_only_start_work_while_covered(tiny_runs):
    _, partners, _, runs = tiny_runs
    for run in runs.values():
        for job in run.jobs:
            if job.started_s is not None:
                assert partners.next_cover(job.partner, job.started_s) == job.started_s


def test_tickets_nobody_can_take_wait_with_the_reason_and_are_never_dropped():
    document = tiny(drain_days=1)
    document["arrivals"].append(
        {"practice": "voip", "priority": "P2", "per_hour": 0.5, "onsite_share": 0}
    )
    model = scenario.parse(document)
    partners, tickets, runs = comparison.run_policies(model)
    voip = [t for t in tickets if t.practice == "voip"]
    assert voip
    for name, run in runs.items():
        stuck = [j for j in run.jobs if j.ticket.practice == "voip"]
        assert len(stuck) == len(voip)
        assert all(j.started_s is None and j.reason for j in stuck), name
        summary = comparison.metrics(run, model, partners)
        assert summary["never_responded"] >= len(voip)
    reasons = {j.reason for j in runs["thirdway"].jobs if j.ticket.practice == "voip"}
    assert all(r.startswith("no partner can take this ticket:") for r in reasons)
    assert all("below voip" in r for r in reasons)


def test_the_offline_bound_is_above_every_online_policy(tiny_runs):
    model, partners, tickets, runs = tiny_runs
    from thirdway.dispatch.bound import offline_bound

    bounds = offline_bound(model, partners, tickets)
    attained = {
        name: comparison.metrics(run, model, partners)["response_sla"] for name, run in runs.items()
    }
    loose, tight = bounds["any_team_member"], bounds["qualified"]
    assert loose["optimal"] and tight["optimal"] and bounds["within_radius"]["optimal"]
    assert tight["response_sla"] <= loose["response_sla"]
    for name, value in attained.items():
        assert loose["response_sla"] >= value, name
    for name in ("skill_least_loaded", "nearest_qualified", "priority_fcfs"):
        assert tight["response_sla"] >= attained[name], name
    # Thirdway's own limits, stretches included: its bound without pre-emption
    calm = scenario.parse(tiny(dispatch={"preempt": False}))
    _, _, runs = comparison.run_policies(calm, ("thirdway",))
    thirdway = comparison.metrics(runs["thirdway"], calm, partners)["response_sla"]
    assert bounds["within_radius"]["response_sla"] >= thirdway


def test_metrics_cover_what_the_issue_asks_for(tiny_runs):
    model, partners, _, runs = tiny_runs
    summary = comparison.metrics(runs["thirdway"], model, partners)
    assert set(summary["by_priority"]) == {"P1", "P2", "P3", "P4"}
    for key in (
        "response_sla",
        "resolution_sla",
        "travel_km",
        "workload_gini",
        "lead_partner_share",
        "reassignments",
        "decision_ms",
        "response_lateness_min",
    ):
        assert key in summary
    assert summary["decision_ms"]["p99"] >= summary["decision_ms"]["p50"] > 0
    assert summary["reoptimise_ms"]["runs"] > 0


def test_the_simulator_decides_with_the_engine_itself():
    model = scenario.parse(tiny())
    partners = simulator.Partners(model)
    tickets = drawing.draw_tickets(model)[:1]
    policy = policies.make_policy("thirdway", engine.Weights(), 300)
    run = simulator.Simulation(model, partners, tickets, policy).simulate()
    need = policy.need(simulator.Simulation(model, partners, tickets, policy), 0)
    direct = engine.rank(need, partners.index, engine.Weights(), scenario.at(tickets[0].arrival_s))
    assert run.records[0].explanation == direct.chosen.explanation


def test_workload_gini_and_residual_work():
    assert comparison.gini([5, 5, 5]) == 0
    assert comparison.gini([0, 0, 9]) == pytest.approx(2 / 3)
    fresh = simulator.residual_s(3600, 0.6, 0)
    assert fresh == pytest.approx(3600 * 1.1972, rel=1e-3)  # the mean, exp(0.18)
    assert simulator.residual_s(3600, 0.6, 1800) < fresh
    assert simulator.residual_s(3600, 0.6, 6 * 3600) > simulator.residual_s(3600, 0.6, 2 * 3600)


def test_the_shipped_scenarios_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
    files = sorted(folder.glob("*.json"))
    assert {f.stem.split("-")[0] for f in files} >= {"small", "medium"}
    for path in files:
        assert scenario.load(path).partners


# --------------------------------------------------------------------------- the engine's view
# of work in hand


def test_a_partner_busy_past_the_response_target_is_unavailable_and_says_why():
    now = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)
    partner = engine.PartnerState(
        id=1,
        name="A",
        kind="partner",
        skills={"security": 3},
        home_lat=51.5,
        home_lon=0,
        radius_km=50,
        time_zone="Europe/London",
        working_hours=OFFICE,
        capacity=5,
        free_at={"P3": now + timedelta(hours=5)},
    )
    need = engine.TicketNeed(
        id=1,
        practice="security",
        required_level=2,
        priority="P3",
        created_at=now,
        response_due_at=now + timedelta(hours=4),
        resolution_due_at=now + timedelta(hours=16),
    )
    reason = engine.reject_availability(need, partner, now)
    assert reason is not None and "busy with work in hand" in reason
    urgent = replace(need, priority="P1", response_due_at=now + timedelta(hours=1))
    assert engine.reject_availability(urgent, partner, now) is None


def test_a_busy_partner_costs_more_slack_and_the_explanation_says_when_they_are_free():
    now = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)
    base = dict(
        kind="partner",
        skills={"security": 3},
        home_lat=51.5,
        home_lon=0,
        radius_km=50,
        time_zone="Europe/London",
        working_hours=OFFICE,
        capacity=5,
    )
    free = engine.PartnerState(id=1, name="Free", **base)
    busy = engine.PartnerState(id=2, name="Busy", **base)
    index = engine.PartnerIndex([free, busy], start=now, days=3)
    index = index.with_loads({}, {2: {"P3": now + timedelta(hours=2)}})
    need = engine.TicketNeed(
        id=1,
        practice="security",
        required_level=2,
        priority="P3",
        created_at=now,
        response_due_at=now + timedelta(hours=4),
        resolution_due_at=now + timedelta(hours=16),
    )
    decision = engine.rank(need, index, now=now)
    assert decision.chosen.partner_id == 1
    busy_candidate = decision.verdict(2)
    assert busy_candidate.busy
    assert busy_candidate.terms["sla_slack"] == pytest.approx(3.0 * 0.5)
    assert "free from 12:00 their time" in busy_candidate.explanation


# --------------------------------------------------------------------------- the command


def _thirdway(tmp_path, *args, **env_extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    env["THIRDWAY_HOME"] = str(tmp_path / "home")
    env.update(env_extra)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "thirdway", "simulate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_thirdway_simulate_prints_one_json_result_and_writes_it(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny()))
    out = tmp_path / "result.json"
    result = _thirdway(
        tmp_path, str(path), "--out", str(out), "--policies", "thirdway,priority_fcfs"
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text())
    assert set(printed["policies"]) == {"thirdway", "priority_fcfs"}
    assert (
        printed["offline_bound"]["qualified"]["response_sla"]
        >= (printed["policies"]["thirdway"]["response_sla"])
    )


def _run_cli(tmp_path, document: dict, policies: str | None = None, capsys=None) -> int:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(document))
    args = argparse.Namespace(scenario=str(path), policies=policies, out=None, no_bound=True)
    return comparison.run_cli(args)


def test_simulate_names_the_path_of_a_bad_value(tmp_path, capsys):
    document = tiny()
    document["partners"][2]["hours"]["mon"] = [["08:00", "25:00"]]
    assert _run_cli(tmp_path, document) == 2
    assert "partners[2].hours.mon[0][1]" in capsys.readouterr().err


def test_simulate_refuses_unknown_policies(tmp_path, capsys):
    assert _run_cli(tmp_path, tiny(), policies="thirdway,coin_toss") == 2
    assert "coin_toss" in capsys.readouterr().err


def test_thirdway_simulate_refuses_unknown_weights(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny()))
    bad_weight = _thirdway(tmp_path, str(path), THIRDWAY_DISPATCH_WEIGHTS="lod=2")
    assert bad_weight.returncode == 2
    assert "THIRDWAY_DISPATCH_WEIGHTS" in bad_weight.stderr
    assert "Traceback" not in bad_weight.stderr


def test_scenario_weights_override_the_settings():
    document = tiny()
    document["dispatch"] = {"weights": {"continuity": 0.0}, "reoptimise_every_s": 60}
    model = scenario.parse(document)
    assert model.weights == {"continuity": 0.0}
    assert model.reoptimise_every_s == 60


def test_no_policy_gives_work_to_a_partner_who_is_away(tiny_runs):
    # Partner 3 is away until 13:00 on the Tuesday of arrivals. The push policies give them
    # nothing meanwhile; Thirdway may, when they are back before the response is due (the
    # hard-filter test above checks that).
    _, partners, _, runs = tiny_runs
    away = partners.row_of[3]
    assert partners.absent(away, int(datetime(2025, 3, 11, 12, 59, tzinfo=UTC).timestamp()))
    assert not partners.absent(away, int(datetime(2025, 3, 11, 13, 0, tzinfo=UTC).timestamp()))
    for name, run in runs.items():
        if name == "thirdway":
            continue
        assert run.records, name
        for record in run.records:
            assert not partners.absent(record.partner_row, record.at_s), (run.policy, record)


def _remote(tickets: list, priority: str, most_level: int):
    return next(
        t for t in tickets if t.priority == priority and t.level <= most_level and not t.onsite
    )


def test_a_partner_coming_free_takes_the_most_urgent_ticket_they_may_take():
    model = scenario.parse(tiny())
    partners = simulator.Partners(model)
    tickets = drawing.draw_tickets(model)
    p1, p3 = _remote(tickets, "P1", 4), _remote(tickets, "P3", 4)
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    sim = simulator.Simulation(model, partners, [p3, p1], policy)
    policy.start(sim)
    sim.now = int(datetime(2025, 3, 11, 10, 0, tzinfo=UTC).timestamp())
    free, away = partners.row_of[1], partners.row_of[3]
    sim.assign(0, free, start=False)  # the P3 is the free partner's own
    sim.assign(1, away, start=False)  # the P1 waits for a partner who is away until 13:00
    sim._try_start(free)
    assert sim.current[free] == 1  # the P1, taken from the other queue and started now
    assert sim.jobs[1].partner == free and sim.jobs[1].reassignments == 1
    assert sim.jobs[1].started_s == sim.now
    assert sim.queues[free] == [0] and sim.queues[away] == []


def test_a_partner_with_nothing_queued_takes_remote_work_waiting_behind_a_busy_one():
    model = scenario.parse(tiny())
    partners = simulator.Partners(model)
    two = int(datetime(2025, 3, 11, 14, 0, tzinfo=UTC).timestamp())
    remote = [t for t in drawing.draw_tickets(model) if t.level <= 2 and not t.onsite][:2]
    running, waiting = (
        replace(t, id=k + 1, priority="P3", arrival_s=two - 600, response_due_s=two + 3 * 3600)
        for k, t in enumerate(remote)
    )
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    sim = simulator.Simulation(model, partners, [running, waiting], policy)
    policy.start(sim)
    sim.now = two
    busy, free = partners.row_of[1], partners.row_of[2]  # 2: security 2, on shift 12-20
    sim.assign(0, busy)  # started at once
    sim.assign(1, busy, start=False)  # due in three hours, behind the running one
    assert sim.current[busy] == 0 and sim.queues[busy] == [1]
    sim._try_start(free)
    # Not late yet, but the free partner starts it now rather than leave it to wait.
    assert sim.current[free] == 1 and sim.jobs[1].started_s == two
    assert sim.queues[busy] == []


def test_a_partner_without_the_skill_does_not_take_it():
    model = scenario.parse(tiny())
    partners = simulator.Partners(model)
    tickets = drawing.draw_tickets(model)
    expert_p1 = next(t for t in tickets if t.priority == "P1" and t.level >= 3 and not t.onsite)
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    sim = simulator.Simulation(model, partners, [expert_p1], policy)
    policy.start(sim)
    sim.now = int(datetime(2025, 3, 11, 14, 0, tzinfo=UTC).timestamp())
    junior, away = partners.row_of[2], partners.row_of[3]  # security 2, on shift from 12:00
    sim.queues[away].append(0)
    sim.jobs[0].partner = away
    sim._try_start(junior)
    assert sim.current[junior] == -1 and sim.jobs[0].partner == away


def _busy_then_p1(preempt: bool) -> simulator.Run:
    """At 10:00 partner 1 (the only one at work: 2 starts at 12:00, 3 is away until 13:00)
    starts a two-hour P3; at 10:10 a half-hour P1 arrives, due within 45 minutes (before 2
    could be called in, an hour ahead of their shift)."""
    model = scenario.parse(tiny(dispatch={"preempt": preempt}))
    tickets = drawing.draw_tickets(model)
    ten = int(datetime(2025, 3, 11, 10, 0, tzinfo=UTC).timestamp())
    p3 = replace(
        _remote(tickets, "P3", 4),
        id=1,
        arrival_s=ten,
        work_s=7200,
        response_due_s=ten + 3600,
        resolution_due_s=ten + 86400,
    )
    p1 = replace(
        _remote(tickets, "P1", 4),
        id=2,
        arrival_s=ten + 600,
        work_s=1800,
        response_due_s=ten + 600 + 2700,
        resolution_due_s=ten + 600 + 4 * 3600,
    )
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0, model.preempt)
    return simulator.Simulation(model, simulator.Partners(model), [p3, p1], policy).simulate()


def test_a_p1_nobody_can_start_in_time_interrupts_a_running_p3_which_resumes_after():
    p3, p1 = _busy_then_p1(preempt=True).jobs
    ten = p3.ticket.arrival_s
    # The dispatcher expected the P3 to end in time; once it ran on, the P1 took its place
    # before it was due.
    assert p3.started_s == ten and ten + 600 <= p1.started_s <= p1.ticket.response_due_s
    assert p1.partner == p3.partner and p1.finished_s == p1.started_s + 1800
    # The P3 kept its start (its response) and the work it had done: it ends half an hour
    # later than it would have, and not a second later.
    assert p3.interruptions == 1 and p3.done_s == p1.started_s - ten
    assert p3.finished_s == ten + 7200 + 1800


def test_without_pre_emption_the_p1_waits_for_someone_free():
    run = _busy_then_p1(preempt=False)
    p3, p1 = run.jobs
    ten = p3.ticket.arrival_s
    assert p3.interruptions == 0 and p3.finished_s == ten + 7200
    # Late, nobody is free: partner 2 is called in at 11:00, an hour before their shift,
    # rather than leave the P1 until noon, and the record says which limit was stretched.
    assert ten + 3600 <= p1.started_s <= ten + 3600 + 300 and p1.partner == 1
    last = [r for r in run.records if r.ticket_id == p1.ticket.id][-1]
    assert "shift" in stretched_limits(last.explanation)
    assert "called in off shift now" in last.explanation


def test_a_night_p1_whose_on_call_partners_are_all_beyond_their_radius_is_stretched_to():
    # Both partners are on call all night and serve 60 km; the site is 84 and 87 km from
    # their homes. The P1 arriving at 02:00 goes to the nearer at once rather than wait.
    km = engine.EARTH_RADIUS_KM * math.pi / 180
    site = (51.52, -0.1)
    night = {"start": "2025-03-10T18:00:00Z", "end": "2025-03-11T08:00:00Z"}
    document = tiny()
    document["partners"] = [
        {
            "id": pid,
            "skills": {"security": 4},
            "home": {"lat": site[0] + away / km, "lon": site[1]},
            "zone": "Europe/London",
            "hours": OFFICE,
            "capacity": 3,
            "radius_km": 60,
            "on_call": [night],
        }
        for pid, away in ((1, 87), (2, 84))
    ]
    model = scenario.parse(document)
    two = int(datetime(2025, 3, 11, 2, 0, tzinfo=UTC).timestamp())
    drawn = next(t for t in drawing.draw_tickets(model) if t.priority == "P1")
    p1 = replace(
        drawn,
        id=1,
        arrival_s=two,
        level=3,
        site=site,
        onsite=True,
        work_s=1800,
        response_due_s=two + 3600,
        resolution_due_s=two + 4 * 3600,
    )
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    run = simulator.Simulation(model, simulator.Partners(model), [p1], policy).simulate()
    (job,) = run.jobs
    assert job.partner == simulator.Partners(model).row_of[2]
    assert job.started_s == two  # not at 09:00, when the office opens
    (record,) = run.records
    assert stretched_limits(record.explanation) == ("radius",)
    assert "radius: site is 84 km away, serves 60 km" in record.explanation
    assert "nobody within their limits can respond before 03:00 their time" in record.explanation
    # A P3 of a site nobody serves goes too (it would wait for ever), saying so...
    routine = replace(p1, priority="P3")
    run = simulator.Simulation(model, simulator.Partners(model), [routine], policy).simulate()
    assert run.jobs[0].started_s == two
    assert "nobody with the skill serves this site" in run.records[0].explanation
    # ...but waits for the office when a partner there serves the site and starts it before
    # it is due (when the office opens, due at 10:00)...
    document["partners"].append(
        {**document["partners"][0], "id": 3, "home": {"lat": site[0], "lon": site[1]}}
    )
    document["partners"][2].pop("on_call")
    model = scenario.parse(document)
    later = replace(routine, response_due_s=two + 8 * 3600, resolution_due_s=two + 24 * 3600)
    waited = simulator.Simulation(model, simulator.Partners(model), [later], policy)
    (job,) = waited.simulate().jobs
    assert job.partner == simulator.Partners(model).row_of[3]
    assert two + 3600 < job.started_s <= later.response_due_s
    # ...and goes beyond a radius when nobody who serves the site can start it in time.
    run = simulator.Simulation(model, simulator.Partners(model), [routine], policy).simulate()
    assert run.jobs[0].partner == simulator.Partners(model).row_of[2]
    assert run.jobs[0].started_s == two
    assert "nobody within their limits can respond before 03:00" in run.records[0].explanation
