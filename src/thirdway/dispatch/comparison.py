"""Running the simulator's policies on a scenario, and the figures that compare them.

:func:`simulate` is what ``thirdway simulate`` and bench/simulate.py call: every policy of
:mod:`thirdway.dispatch.simulator` on the same arrivals, the offline bounds of
:mod:`thirdway.dispatch.bound`, and :func:`metrics` for each run. Imports no Django, except
:func:`run_cli`, which reads the dispatch settings for the command.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from thirdway.dispatch import engine
from thirdway.dispatch.drawing import draw_tickets, expected_load
from thirdway.dispatch.policies import DEFAULT_REOPTIMISE_EVERY_S, POLICIES, make_policy
from thirdway.dispatch.scenario import Scenario, SimTicket
from thirdway.dispatch.simulator import Partners, Run, Simulation

# --------------------------------------------------------------------------- metrics


def _percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if len(values) else 0.0


def gini(values: Sequence[float] | np.ndarray) -> float:
    """0 when everyone did the same amount of work, towards 1 when one did it all."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(np.sum(x))
    if n == 0 or total == 0:
        return 0.0
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def _share(hits: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * hits / total, 2)


def metrics(run: Run, scenario: Scenario, partners: Partners) -> dict[str, object]:
    """The figures of one policy's run; attainment and shares are percentages."""
    end = scenario.end_s
    jobs = run.jobs
    response_late = [max(0, (j.responded_s or end) - j.ticket.response_due_s) for j in jobs]
    # The resolution clock stands still while the ticket waits on the client.
    resolution_late = [
        max(0, (j.finished_s or end) - j.ticket.resolution_due_s - j.paused_s) for j in jobs
    ]
    by_priority: dict[str, dict[str, object]] = {}
    for priority in engine.PRIORITIES:
        mine = [k for k, j in enumerate(jobs) if j.ticket.priority == priority]
        by_priority[priority] = {
            "tickets": len(mine),
            "response": _share(
                sum(response_late[k] == 0 and jobs[k].responded_s is not None for k in mine),
                len(mine),
            ),
            "resolution": _share(
                sum(resolution_late[k] == 0 and jobs[k].finished_s is not None for k in mine),
                len(mine),
            ),
        }
    responded = [j.responded_s is not None for j in jobs]
    on_time = sum(r and late == 0 for r, late in zip(responded, response_late, strict=True))
    resolved = sum(
        j.finished_s is not None and late == 0
        for j, late in zip(jobs, resolution_late, strict=True)
    )
    with_lead = [
        j
        for j in jobs
        if scenario.clients[j.ticket.client].lead_partner is not None and j.finished_s is not None
    ]
    by_lead = sum(
        partners.states[j.partner].id == scenario.clients[j.ticket.client].lead_partner
        for j in with_lead
    )
    never = [j for j in jobs if j.responded_s is None]
    reasons = Counter(j.reason or "assigned, not started by the end" for j in never)
    return {
        "response_sla": _share(on_time, len(jobs)),
        "resolution_sla": _share(resolved, len(jobs)),
        "by_priority": by_priority,
        "response_lateness_min": {
            "p50": _percentile(response_late, 50) / 60,
            "p95": round(_percentile(response_late, 95) / 60, 1),
        },
        "resolution_lateness_min": {
            "p50": _percentile(resolution_late, 50) / 60,
            "p95": round(_percentile(resolution_late, 95) / 60, 1),
        },
        "travel_km": round(sum(j.travel_km for j in jobs if j.responded_s is not None), 1),
        "workload_gini": round(gini(run.work_s), 4),
        "lead_partner_share": _share(by_lead, len(with_lead)),
        "reassignments": sum(j.reassignments for j in jobs),
        # Tickets raised to a higher level once worked on (realism.escalation).
        "escalations": sum(j.raised for j in jobs),
        # Assignments the engine's escalation override let past availability.
        "availability_bypasses": sum(r.escalated for r in run.records),
        "decision_ms": {
            "p50": _percentile(run.decision_ms, 50),
            "p99": _percentile(run.decision_ms, 99),
            "cpu_p50": _percentile(run.decision_cpu_ms, 50),
            "cpu_p99": _percentile(run.decision_cpu_ms, 99),
        },
        "reoptimise_ms": {
            "runs": len(run.reoptimise_ms),
            "p50": _percentile(run.reoptimise_ms, 50),
            "p99": _percentile(run.reoptimise_ms, 99),
            "max": round(max(run.reoptimise_ms, default=0.0), 3),
            "cpu_p99": _percentile(run.reoptimise_cpu_ms, 99),
            "largest_queue": run.largest_queue,
        }
        if run.policy == "thirdway"
        else None,
        "never_responded": len(never),
        "unassignable_reasons": dict(reasons.most_common(5)),
    }


# --------------------------------------------------------------------------- running


def offered_load(scenario: Scenario, partners: Partners) -> float:
    """Expected work of the horizon's arrivals over the partners' shift time in it
    (on-call cover comes on top)."""
    lo, hi = scenario.start_s, scenario.start_s + scenario.horizon_s
    shift_s = sum(max(0, min(e, hi) - max(s, lo)) for spans in partners.shifts for s, e in spans)
    return round(expected_load(scenario, shift_s), 3)


def run_policies(
    scenario: Scenario,
    policies: Sequence[str] = POLICIES,
    weights: engine.Weights | None = None,
    reoptimise_every_s: float | None = None,
) -> tuple[Partners, list[SimTicket], dict[str, Run]]:
    """Simulate each policy on the same tickets; the scenario's own dispatch settings win."""
    weights = weights or engine.Weights()
    if scenario.weights:
        values = {f.name: getattr(weights, f.name) for f in weights.__dataclass_fields__.values()}
        weights = engine.Weights.from_dict({**values, **scenario.weights})
    every = scenario.reoptimise_every_s or reoptimise_every_s or DEFAULT_REOPTIMISE_EVERY_S
    partners = Partners(scenario)
    tickets = draw_tickets(scenario)
    runs = {}
    for name in policies:
        policy = make_policy(name, weights, every, scenario.preempt)
        runs[name] = Simulation(scenario, partners, tickets, policy).simulate()
    return partners, tickets, runs


def simulate(
    scenario: Scenario,
    policies: Sequence[str] = POLICIES,
    weights: engine.Weights | None = None,
    reoptimise_every_s: float | None = None,
    with_bound: bool = True,
) -> dict[str, object]:
    """Run the policies (and the offline bound) and return the JSON-ready result."""
    from thirdway.dispatch.bound import offline_bound

    began = time.perf_counter()
    partners, tickets, runs = run_policies(scenario, policies, weights, reoptimise_every_s)
    result: dict[str, object] = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "partners": len(partners),
        "tickets": len(tickets),
        "horizon_days": round(scenario.horizon_s / 86_400, 2),
        "offered_load": offered_load(scenario, partners),
        "policies": {name: metrics(run, scenario, partners) for name, run in runs.items()},
    }
    if with_bound:
        result["offline_bound"] = offline_bound(scenario, partners, tickets)
    result["elapsed_s"] = round(time.perf_counter() - began, 2)
    return result


def run_cli(args: object) -> int:
    """``thirdway simulate``: weights and interval from the settings, scenario overrides."""
    import json
    import sys

    from django.conf import settings

    from thirdway.dispatch.scenario import ScenarioError, load

    def fail(message: str) -> int:
        print(f"thirdway: {message}", file=sys.stderr)
        return 2

    names = POLICIES
    if args.policies:  # type: ignore[attr-defined]
        names = tuple(n.strip() for n in args.policies.split(",") if n.strip())  # type: ignore[attr-defined]
        unknown = [n for n in names if n not in POLICIES]
        if unknown:
            return fail(f"unknown policy {', '.join(unknown)}; known: {', '.join(POLICIES)}")
    try:
        scenario = load(args.scenario)  # type: ignore[attr-defined]
    except OSError as error:
        return fail(f"cannot read the scenario: {error}")
    except ScenarioError as error:
        return fail(str(error))
    result = simulate(
        scenario,
        names,
        engine.Weights.from_dict(settings.DISPATCH_WEIGHTS),
        settings.DISPATCH_REOPTIMISE_SECONDS,
        with_bound=not args.no_bound,  # type: ignore[attr-defined]
    )
    text = json.dumps(result, indent=2)
    if args.out:  # type: ignore[attr-defined]
        with open(args.out, "w") as handle:  # type: ignore[attr-defined]
            handle.write(text + "\n")
    print(text)
    return 0
