"""The simulator's realism block: clients' own hours, languages, unanswered offers, missed
shifts, waits on the client, chained travel, urgent-only on-call and load with travel; and
every policy held to partners' absences. Each part is compared with the same scenario
without it, so each test fails if the part does nothing."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from thirdway.dispatch import comparison, drawing, engine, policies, realism, scenario, simulator
from thirdway.distance import haversine_km

from .test_simulator import tiny

PUSH = ("round_robin", "least_loaded", "skill_least_loaded", "nearest_qualified")
TUESDAY = datetime(2025, 3, 11, tzinfo=UTC)


def _s(hour: float, day: int = 0) -> int:
    return int(TUESDAY.timestamp()) + day * 86_400 + round(hour * 3600)


def _runs(document: dict) -> tuple[scenario.Scenario, simulator.Partners, list, dict]:
    model = scenario.parse(document)
    return model, *comparison.run_policies(model)


def _digest(run: simulator.Run) -> str:
    rows = [
        (j.ticket.id, j.partner, j.started_s, j.finished_s, j.reassignments, round(j.travel_km, 3))
        for j in run.jobs
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- off is off

# Every policy's run (who, when started and finished, moves, travel) on two fixed
# scenarios, recorded with the simulator as it was before the realism block existed
# (Thirdway's again when the engine weighed a drive that cannot make the ticket late more).
BEFORE = {
    "tiny": {
        "round_robin": "b1b889d59e2a6a87",
        "least_loaded": "0a23be34483c4c4e",
        "skill_least_loaded": "6bd3d46e8874590a",
        "nearest_qualified": "92a33fcdc1e1d6c7",
        "priority_fcfs": "7bf02847de259683",
        "thirdway": "1d9ffbb3a382b99b",
    },
    "small-85": {
        "round_robin": "ed8b323a2e22cfc0",
        "least_loaded": "bebfe989150ce31e",
        "skill_least_loaded": "a30d155e22952f5b",
        "nearest_qualified": "9b5305dfe801e037",
        "priority_fcfs": "e817de390a5f897b",
        "thirdway": "ee44db469c5280c0",
    },
}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_a_scenario_without_realism_gives_the_very_runs_it_gave_before(name):
    from pathlib import Path

    if name == "tiny":
        model = scenario.parse(tiny())
    else:
        root = Path(__file__).resolve().parents[2]
        model = scenario.load(root / "bench" / "scenarios" / f"{name}.json")
    assert model.realism == realism.Realism()
    _, _, runs = comparison.run_policies(model)
    assert {p: _digest(r) for p, r in runs.items()} == BEFORE[name]


def test_the_realism_block_is_checked_and_named_by_its_path():
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(tiny(realism={"refusals": {"share": 2}, "sick": {}, "colour": 1}))
    paths = {path for path, _ in caught.value.problems}
    assert {"realism.refusals.share", "realism.sick", "realism"} <= paths


# --------------------------------------------------------------------------- clients' hours

OFFICE_WEEK = [1.5 if d < 5 and 9 <= h < 17 else 0.0 for d in range(7) for h in range(24)]


def _two_regions(client_hours: bool) -> scenario.Scenario:
    document = tiny(
        arrivals=[{"practice": "security", "priority": "P3", "per_hour": OFFICE_WEEK}],
        realism={"client_hours": client_hours},
    )
    document["clients"][1]["zone"] = "Asia/Singapore"
    return scenario.parse(document)


def test_clients_call_in_their_own_office_hours():
    for client_hours in (True, False):
        model = _two_regions(client_hours)
        tickets = drawing.draw_tickets(model)

        zones = [ZoneInfo(c.zone) for c in model.clients]
        local_hours = {
            c: {
                datetime.fromtimestamp(t.arrival_s, zones[c]).hour for t in tickets if t.client == c
            }
            for c in (0, 1)
        }
        in_office = all(9 <= h < 17 for hours in local_hours.values() for h in hours)
        assert local_hours[0] and local_hours[1]
        # Without it the Singapore client calls in London's hours (17:00-01:00 theirs).
        assert in_office is client_hours


# --------------------------------------------------------------------------- languages


def test_a_ticket_in_a_language_goes_to_a_speaker_or_waits_for_one():
    document = tiny()
    document["clients"][1]["language"] = "de"
    document["partners"][2]["languages"] = ["de", "en"]  # partner 3, away until 13:00
    _, partners, tickets, runs = _runs(document)
    german = [k for k, t in enumerate(tickets) if t.language == "de"]
    assert german and all(tickets[k].client == 1 for k in german)
    speaker = partners.row_of[3]
    for name, run in runs.items():
        for k in german:
            job = run.jobs[k]
            if job.started_s is not None:
                assert job.partner == speaker, name
                assert job.started_s >= _s(13), name
    # Without the language, others take some of them.
    _, _, _, plain = _runs(tiny())
    assert any(plain["round_robin"].jobs[k].partner != speaker for k in german)


# --------------------------------------------------------------------------- refusals


def test_unanswered_offers_cost_the_timeout_and_go_elsewhere():
    document = tiny(realism={"refusals": {"share": 0.5, "timeout_minutes": 20}})
    model, _, _, runs = _runs(document)
    _, _, _, plain = _runs(tiny())
    # The same silence for every policy: it is drawn per ticket and offer, not per run.
    assert realism.refuses(model, 5, 1) == realism.refuses(model, 5, 1)
    delay, plain_delay = 0, 0
    for name, run in runs.items():
        refused = [j for j in run.jobs if j.passed]
        if name != "priority_fcfs" or refused:
            assert refused, name
        for job in refused:
            first = min(job.passed.values())
            if job.started_s is not None and first <= job.started_s:
                assert job.started_s >= first + 20 * 60, name
        delay += sum((j.started_s or model.end_s) - j.ticket.arrival_s for j in run.jobs)
        plain_delay += sum(
            (j.started_s or model.end_s) - j.ticket.arrival_s for j in plain[name].jobs
        )
    assert delay > plain_delay


def test_an_unanswered_offer_taken_meanwhile_is_not_offered_again():
    model = scenario.parse(tiny(realism={"refusals": {"share": 0.5}}))
    offered: list[int] = []

    class Recording(policies.Policy):
        def arrive(self, sim: simulator.Simulation, j: int) -> None:
            offered.append(j)

    sim = simulator.Simulation(
        model, simulator.Partners(model), drawing.draw_tickets(model), Recording()
    )
    job = sim.jobs[0]
    job.reason, job.partner = simulator.NO_ANSWER, 0  # pulled before the timeout
    sim._retry(0)
    assert offered == []
    job.partner = -1
    sim._retry(0)
    assert offered == [0] and job.reason == ""


def test_a_push_policy_offers_again_to_someone_else():
    document = tiny(realism={"refusals": {"share": 0.5, "timeout_minutes": 20}})
    _, _, _, runs = _runs(document)
    for name in PUSH:
        for job in runs[name].jobs:
            for row, when in job.passed.items():
                later = [
                    r
                    for r in runs[name].records
                    if r.ticket_id == job.ticket.id and when < r.at_s < when + 4 * 3600
                ]
                assert all(r.partner_row != row for r in later), name


# --------------------------------------------------------------------------- missed shifts


def test_missed_shifts_take_the_cover_away_and_queues_are_dispatched_again():
    document = tiny(realism={"sick": {"share": 1.0}})
    _, partners, _, runs = _runs(document)
    assert all(partners.sick[partners.row_of[p]] for p in (1, 2, 3))
    night = partners.row_of[2]  # on call 18:00-08:00: the only cover left
    started = [j for run in runs.values() for j in run.jobs if j.started_s is not None]
    assert started
    for job in started:
        assert job.partner == night
        assert _s(18) <= job.started_s < _s(8, 1)
    # Work queued with a partner whose shift does not happen is dispatched again at its start.
    assert any(j.reassignments for name in PUSH for j in runs[name].jobs)
    # Without it the day shifts work.
    _, _, _, plain = _runs(tiny())
    assert any(j.partner != night for j in plain["round_robin"].jobs if j.started_s)


def test_the_dispatcher_learns_of_a_missed_shift_only_when_it_starts():
    partners = simulator.Partners(scenario.parse(tiny(realism={"sick": {"share": 1.0}})))
    row = partners.row_of[1]
    start, _ = partners.sick[row][0]
    assert partners.known_cover(row, start, start - 1) == start  # not known yet
    assert partners.known_cover(row, start, start) > start
    assert partners.next_cover(row, start) > start  # the truth the run follows
    assert partners.absent(row, start) and not partners.absent(row, start - 1)


# --------------------------------------------------------------------------- waits on the client


def test_work_waiting_on_the_client_frees_the_partner_and_stops_the_resolution_clock():
    waits = {"client_waits": {"share": 1.0, "median_minutes": 60, "sigma": 0}}
    document = tiny(realism=waits, dispatch={"preempt": False})
    model, partners, tickets, runs = _runs(document)
    assert all(t.wait_s == 3600 for t in tickets)
    _, _, _, plain = _runs(tiny(dispatch={"preempt": False}))

    def overlaps(run: simulator.Run) -> int:
        done = [j for j in run.jobs if j.finished_s is not None]
        return sum(
            a is not b and a.partner == b.partner and a.started_s < b.started_s < a.finished_s
            for a in done
            for b in done
        )

    for name, run in runs.items():
        for job in run.jobs:
            if job.finished_s is not None:
                assert job.paused_s == 3600 and job.finished_s - job.started_s >= 3600 + 60
        assert overlaps(run) > 0, name  # the partner took other work meanwhile
        assert overlaps(plain[name]) == 0, name
    # The hour of waiting does not count against resolution.
    job = next(j for j in runs["thirdway"].jobs if j.finished_s is not None)
    late = replace(job.ticket, resolution_due_s=job.finished_s - 1800)
    run = simulator.Run("x", [replace(job, ticket=late)], runs["thirdway"].work_s, [], [])
    assert comparison.metrics(run, model, partners)["resolution_sla"] == 100.0


# --------------------------------------------------------------------------- chained travel

SITE_A, SITE_B = (51.60, -0.05), (51.65, 0.05)


def _two_visits(
    chained: bool, policy_name: str = "skill_least_loaded"
) -> tuple[simulator.Partners, simulator.Run]:
    model = scenario.parse(tiny(realism={"chained_travel": chained}, dispatch={"preempt": False}))
    partners = simulator.Partners(model)
    base = next(t for t in drawing.draw_tickets(model) if t.priority == "P3")
    tickets = [
        replace(
            base,
            id=k + 1,
            arrival_s=_s(9) + 60 * k,
            level=3,  # partner 2 lacks it, partner 3 is away until 13:00
            onsite=True,
            site=site,
            work_s=1800,
            response_due_s=_s(15),
            resolution_due_s=_s(20),
        )
        for k, site in enumerate((SITE_A, SITE_B))
    ]
    policy = policies.make_policy(policy_name, engine.Weights(), 300.0)
    run = simulator.Simulation(model, partners, tickets, policy).simulate()
    return partners, run


def test_an_on_site_partner_drives_on_from_the_last_visit():
    partners, run = _two_visits(chained=True)
    first, second = run.jobs
    row = partners.row_of[1]  # the only partner at work at 09:00
    assert first.partner == second.partner == row
    home = (partners.states[row].home_lat, partners.states[row].home_lon)
    leg = float(haversine_km(*SITE_A, *SITE_B))
    assert first.travel_km == pytest.approx(float(haversine_km(*home, *SITE_A)))
    assert second.travel_km == pytest.approx(leg + float(haversine_km(*SITE_B, *home)))
    assert second.started_s == first.finished_s
    assert second.finished_s - second.started_s == round(1800 + leg / 40 * 3600)
    out_back, again = _two_visits(chained=False)[1].jobs
    assert out_back.travel_km == pytest.approx(2 * float(haversine_km(*home, *SITE_A)))
    assert first.travel_km + second.travel_km < out_back.travel_km + again.travel_km


def test_thirdway_ranks_the_next_visit_by_the_drive_from_the_one_in_progress():
    partners, run = _two_visits(chained=True, policy_name="thirdway")
    row = partners.row_of[1]
    second = next(r for r in run.records if r.ticket_id == 2)
    leg = float(haversine_km(*SITE_A, *SITE_B))
    assert second.partner_row == row
    assert f"; {leg:.0f} km drive from the site of ticket 1;" in second.explanation
    # Without chained travel every visit is out and back from home, and ranked so.
    _, plain = _two_visits(chained=False, policy_name="thirdway")
    assert all("drive from" not in r.explanation for r in plain.records)


# --------------------------------------------------------------------------- on-call


def test_on_call_partners_take_only_urgent_work_at_night():
    document = tiny(realism={"on_call_urgent_only": True})
    _, partners, _, runs = _runs(document)
    _, _, _, plain = _runs(tiny())

    def night_starts(run: simulator.Run, p: simulator.Partners) -> list[str]:
        return [
            j.ticket.priority
            for j in run.jobs
            if j.started_s is not None and p.next_shift(j.partner, j.started_s) != j.started_s
        ]

    for name, run in runs.items():
        assert set(night_starts(run, partners)) <= {"P1", "P2"}, name
    assert any(set(night_starts(run, partners)) - {"P1", "P2"} for run in plain.values())


# --------------------------------------------------------------------------- load


def test_the_offered_load_counts_the_drive_when_asked():
    def load(counts: bool, onsite: float) -> float:
        document = tiny(realism={"load_counts_travel": counts})
        for stream in document["arrivals"]:
            stream["onsite_share"] = onsite
        model = scenario.parse(document)
        return comparison.offered_load(model, simulator.Partners(model))

    assert load(True, 0.5) > load(False, 0.5)
    assert load(True, 0.0) == load(False, 0.0)


# --------------------------------------------------------------------------- absences


def test_no_policy_leaves_work_queued_with_a_partner_who_goes_away():
    # Partner 1 leaves at noon on the day of arrivals, for two days.
    document = tiny()
    document["partners"][0]["absences"] = [
        {"start": "2025-03-11T12:00:00Z", "end": "2025-03-13T12:00:00Z"}
    ]
    _, partners, _, runs = _runs(document)
    row, leaves = partners.row_of[1], _s(12)
    for name, run in runs.items():
        held = [
            job
            for job in run.jobs
            if job.partner == row and job.started_s is not None and job.started_s >= leaves
        ]
        assert all(job.started_s >= _s(12, 2) for job in held), name
        before = {r.ticket_id for r in run.records if r.partner_row == row and r.at_s < leaves}
        for job in held:
            assert job.ticket.id not in before or any(
                r.ticket_id == job.ticket.id and r.at_s >= _s(12, 2) for r in run.records
            ), (name, job.ticket.id)
    moved = [
        j
        for name in PUSH
        for j in runs[name].jobs
        if j.reassignments and j.started_s and j.started_s < _s(12, 2)
    ]
    assert moved  # the queue went to others, who started it before partner 1 came back


def test_no_push_policy_queues_work_with_a_partner_who_has_no_cover_ahead():
    # Partner 2's last cover ends on Wednesday at 08:00; the run goes on until Friday.
    _, partners, _, runs = _runs(tiny(realism={"sick": {"share": 1.0}}))
    for name in PUSH:
        assert runs[name].records, name
        for record in runs[name].records:
            assert partners.next_cover(record.partner_row, record.at_s) < float("inf"), name


# --------------------------------------------------------------------------- the families


def _families():
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parents[2] / "bench" / "scenarios")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import families

    return families


def test_the_families_turn_each_part_on_by_name_and_leave_it_off_otherwise():
    families = _families()
    plain = families.make("follow_the_sun", 2)
    assert "realism" not in plain
    assert not any("language" in c for c in plain["clients"])
    real = scenario.parse(families.make("follow_the_sun", 2, families.REALISM))
    assert real.realism.client_hours and real.realism.chained_travel
    assert real.realism.refusal_share > 0 and real.realism.sick_share > 0
    assert real.realism.escalation_share > 0
    assert any(c.language for c in real.clients)
    assert all(
        c.language is None or any(c.language in p.languages for p in real.partners)
        for c in real.clients
    )
    only = scenario.parse(families.make("office", 2, ("sick",))).realism
    assert only == realism.Realism(sick_share=only.sick_share) and only.sick_share > 0
    with pytest.raises(ValueError, match="unknown realism"):
        families.make("office", 2, ("weather",))


def test_thirdway_replans_past_a_partner_who_let_the_ticket_go_unanswered():
    document = tiny(realism={"refusals": {"share": 0.5}})
    model = scenario.parse(document)
    partners = simulator.Partners(model)
    base = next(t for t in drawing.draw_tickets(model) if not t.onsite)
    ticket = replace(base, arrival_s=_s(14), level=2, response_due_s=_s(18))
    policy = policies.make_policy("thirdway", engine.Weights(), 300.0)
    sim = simulator.Simulation(model, partners, [ticket], policy)
    policy.start(sim)
    sim.now = _s(14)  # all three at work
    ranked = engine.rank(
        policy.need(sim, 0), policy._index(sim), policy.weights, scenario.at(sim.now)
    )
    best, second = (partners.row_of[c.partner_id] for c in ranked.candidates[:2])
    sim.jobs[0].passed = {best: sim.now - 600, second: sim.now - 300}
    sim.waiting = [0]
    policy.tick(sim)
    # The plan's pick is passed over, so the ticket is ranked again without them, not left
    # waiting for hours; the offer itself may go unanswered in turn.
    job = sim.jobs[0]
    offered = [r.partner_row for r in sim.run.records]
    assert offered and offered[-1] not in (best, second)
    assert job.partner in (-1, offered[-1]) and (job.partner >= 0 or job.reason)
