"""Which tickets are late for one policy only, and why; prints JSON.

    .venv/bin/python bench/dispatch_late.py --family rural --seed 1 [--realism all]
        [--policy thirdway] [--against priority_fcfs] [--show 10]

Runs the two policies on a family's seed (bench/scenarios/families.py) and takes the tickets
whose first response was late (or never came) under ``--policy`` and on time under
``--against``. For each: its priority, on site or not, how late, how long it waited before
anyone held it, the partners it passed through, and for an on-site ticket whether the site
was within the radius of the partner who answered it in time under ``--against``. The
summary counts them by those facts; ``--show`` lists the first few in full.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "scenarios"))
try:
    from thirdway.dispatch import comparison, scenario
    from thirdway.distance import haversine_km
except ModuleNotFoundError:  # not installed: run straight from the source tree
    sys.path.insert(0, str(HERE.parent / "src"))
    from thirdway.dispatch import comparison, scenario
    from thirdway.distance import haversine_km

import families  # noqa: E402


def _late(job, end: int) -> int:
    return max(0, (job.responded_s or end) - job.ticket.response_due_s)


def _on_time(job) -> bool:
    return job.responded_s is not None and job.responded_s <= job.ticket.response_due_s


def _facts(k, ours, theirs, records, partners, end) -> dict:
    job, other = ours.jobs[k], theirs.jobs[k]
    t = job.ticket
    mine = [r for r in records if r.ticket_id == t.id]
    first = mine[0].at_s if mine else None
    facts = {
        "ticket": t.id,
        "priority": t.priority,
        "onsite": t.onsite,
        "level": t.level,
        "late_min": round(_late(job, end) / 60),
        "responded": job.responded_s is not None,
        "waited_unheld_min": None if first is None else round((first - t.arrival_s) / 60),
        "holders": [partners.states[r.partner_row].id for r in mine],
        "reassignments": job.reassignments,
        "unassignable_reason": job.reason or None,
        "last_explanation": mine[-1].explanation if mine else None,
        "answered_in_time_by": partners.states[other.partner].id,
    }
    if t.onsite:
        state = partners.states[other.partner]
        km = float(haversine_km(state.home_lat, state.home_lon, *t.site))
        facts["their_km_from_home"] = round(km)
        facts["within_their_radius"] = km <= state.radius_km
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="rural")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--realism", default="none")
    parser.add_argument("--policy", default="thirdway")
    parser.add_argument("--against", default="priority_fcfs")
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args()
    realism = (
        families.REALISM
        if args.realism == "all"
        else tuple(p for p in args.realism.split(",") if p and p != "none")
    )
    model = scenario.parse(families.make(args.family, args.seed, realism))
    partners, tickets, runs = comparison.run_policies(model, (args.policy, args.against))
    ours, theirs = runs[args.policy], runs[args.against]
    end = model.end_s
    only = [
        k for k in range(len(tickets)) if not _on_time(ours.jobs[k]) and _on_time(theirs.jobs[k])
    ]
    facts = [_facts(k, ours, theirs, ours.records, partners, end) for k in only]
    onsite = [f for f in facts if f["onsite"]]
    summary = {
        "family": args.family,
        "seed": args.seed,
        "realism": list(realism),
        "tickets": len(tickets),
        "late_for_policy_only": len(only),
        "late_for_against_only": sum(
            _on_time(ours.jobs[k]) and not _on_time(theirs.jobs[k]) for k in range(len(tickets))
        ),
        "by_priority": dict(Counter(f["priority"] for f in facts)),
        "onsite": len(onsite),
        "onsite_outside_the_answering_partners_radius": sum(
            not f["within_their_radius"] for f in onsite
        ),
        "never_responded": sum(not f["responded"] for f in facts),
        "waited_unheld_over_30_min": sum(
            f["waited_unheld_min"] is None or f["waited_unheld_min"] > 30 for f in facts
        ),
        "reassigned": sum(f["reassignments"] > 0 for f in facts),
        "unassignable_reasons": dict(
            Counter(f["unassignable_reason"] for f in facts if f["unassignable_reason"])
        ),
        "shown": facts[: args.show],
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
