"""Every dispatch policy on every scenario family, over several seeds; prints JSON.

    .venv/bin/python bench/dispatch_families.py [--families storm,vacation] [--seeds 10]
        [--jobs 2] [--realism all|none|client_hours,refusals,...] [--storms] [--bound]
        [--piece-hours 12] [--solver ipm|ipm-crossover|simplex] [--out result.json]

The families are in bench/scenarios/families.py. For each family and seed the simulator runs
every policy on the same arrivals (``comparison.simulate`` without the offline bound); the
summary gives, per family, each policy's mean response-SLA attainment overall and for P1,
in how many seeds Thirdway's was at least the best other policy's, and Thirdway's travel
against skill + least-loaded's. The aims: Thirdway first overall and on P1, on the mean and
in at least 8 of 10 seeds, with travel at most 0.6 times skill + least-loaded's.
``--realism`` turns on parts of the scenarios' realism block (families.REALISM; ``all`` for
every part), the same for every policy. ``--storms`` turns on incident linking and surge
mode (the scenario's ``dispatch.link_incidents`` and ``dispatch.surge``) for every policy.
``--bound`` adds the offline bounds ``qualified`` and ``within_radius`` (relaxed, since a
family's week is thousands of tickets: the Lagrangian bound with prices from LPs of pieces of
``--piece-hours`` hours solved by ``--solver``; see docs/simulator.md, "The offline bound")
and Thirdway's distance to each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "scenarios"))
try:
    from thirdway.dispatch import bound_relaxed, comparison, drawing, scenario, simulator
except ModuleNotFoundError:  # not installed: run straight from the source tree
    sys.path.insert(0, str(HERE.parent / "src"))
    from thirdway.dispatch import bound_relaxed, comparison, drawing, scenario, simulator

import families  # noqa: E402

BOUNDS = ("qualified", "within_radius")
# What each run reports of a bound.
BOUND_FIELDS = (
    "response_sla",
    "on_time",
    "schedule_on_time",
    "value",
    "piece_prices_value",
    "with_a_start",
    "variables",
    "pieces",
    "pieces_unsolved",
    "slowest_piece_s",
    "prices_s",
    "solve_s",
)


def run_one(
    family: str,
    seed: int,
    realism: tuple[str, ...] = (),
    storms: bool = False,
    with_bound: bool = False,
    piece_hours: float = bound_relaxed.PIECE_HOURS,
    solver: str = "ipm",
) -> dict:
    document = families.make(family, seed, realism)
    if storms:
        document.setdefault("dispatch", {}).update(link_incidents=True, surge=True)
    model = scenario.parse(document)
    began = time.process_time()
    result = comparison.simulate(model, with_bound=False)
    cpu = {"policies_s": round(time.process_time() - began, 1)}
    bounds = {}
    if with_bound:  # the same tickets and partners as the runs (the seed fixes them)
        began = time.process_time()
        partners = simulator.Partners(model)
        tickets = drawing.draw_tickets(model)
        for kind in BOUNDS:
            found = bound_relaxed.relaxed_bound(
                model, partners, tickets, kind, piece_hours=piece_hours, solver=solver
            )
            bounds[kind] = {k: found.get(k) for k in BOUND_FIELDS}
        cpu["bounds_s"] = round(time.process_time() - began, 1)
    figures = {}
    for name, m in result["policies"].items():
        figures[name] = {
            "overall": m["response_sla"],
            "p1": m["by_priority"]["P1"]["response"],
            "travel_km": m["travel_km"],
        }
    return {
        "family": family,
        "seed": seed,
        "tickets": result["tickets"],
        "offered_load": result["offered_load"],
        "policies": figures,
        "bounds": bounds,
        "cpu": cpu,
    }


def _lead(runs: list[dict], key: str) -> dict:
    """Thirdway against the best other policy of each seed on ``key``."""
    ahead, margins = 0, []
    for run in runs:
        ours = run["policies"]["thirdway"][key]
        others = [m[key] for name, m in run["policies"].items() if name != "thirdway"]
        best = max((v for v in others if v is not None), default=None)
        if ours is None or best is None:
            continue
        ahead += ours >= best
        margins.append(ours - best)
    return {
        "seeds_at_least_best_other": ahead,
        "mean_margin": round(statistics.fmean(margins), 2) if margins else None,
    }


def summarise(runs: list[dict]) -> dict:
    names = list(runs[0]["policies"])
    means = {}
    for name in names:
        overall = [r["policies"][name]["overall"] for r in runs]
        p1 = [r["policies"][name]["p1"] for r in runs if r["policies"][name]["p1"] is not None]
        means[name] = {
            "overall": round(statistics.fmean(overall), 2),
            "p1": round(statistics.fmean(p1), 2) if p1 else None,
        }
    travel = [
        r["policies"]["thirdway"]["travel_km"]
        / max(r["policies"]["skill_least_loaded"]["travel_km"], 1e-9)
        for r in runs
    ]
    best_overall = max((n for n in names if n != "thirdway"), key=lambda n: means[n]["overall"])
    best_p1 = max(
        (n for n in names if n != "thirdway" and means[n]["p1"] is not None),
        key=lambda n: means[n]["p1"],
    )
    bounds = {}
    for kind in BOUNDS:
        values = [r["bounds"][kind]["response_sla"] for r in runs if r.get("bounds")]
        if values:
            bounds[kind] = {"mean": round(statistics.fmean(values), 2)}
            for name in ("thirdway", "priority_fcfs"):
                gaps = [
                    r["bounds"][kind]["response_sla"] - r["policies"][name]["overall"] for r in runs
                ]
                bounds[kind][f"{name}_below_by"] = round(statistics.fmean(gaps), 2)
                bounds[kind][f"{name}_largest_gap"] = round(max(gaps), 2)
    return {
        "seeds": len(runs),
        "bounds": bounds,
        "mean": means,
        "best_other_overall": best_overall,
        "best_other_p1": best_p1,
        "overall": _lead(runs, "overall"),
        "p1": _lead(runs, "p1"),
        "travel_ratio_to_skill_least_loaded": round(statistics.fmean(travel), 3),
    }


def _realism(text: str) -> tuple[str, ...]:
    if text == "all":
        return families.REALISM
    parts = tuple(p for p in text.split(",") if p and p != "none")
    unknown = [p for p in parts if p not in families.REALISM]
    if unknown:
        raise SystemExit(
            f"unknown realism {', '.join(unknown)}; known: all, none, "
            + ", ".join(families.REALISM)
        )
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(families.FAMILIES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--realism", default="none")
    parser.add_argument("--storms", action="store_true", help="incident linking and surge on")
    parser.add_argument(
        "--bound", action="store_true", help="the relaxed offline bounds and the gap to them"
    )
    parser.add_argument("--piece-hours", type=float, default=bound_relaxed.PIECE_HOURS)
    parser.add_argument("--solver", choices=bound_relaxed.SOLVERS, default="ipm")
    parser.add_argument("--out")
    args = parser.parse_args()
    chosen = [f for f in args.families.split(",") if f]
    realism = _realism(args.realism)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    work = [
        (f, s, realism, args.storms, args.bound, args.piece_hours, args.solver)
        for f in chosen
        for s in seeds
    ]
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(run_one, *zip(*work, strict=True)))
    result = {
        "realism": list(realism),
        "storms": args.storms,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "families": {f: summarise([r for r in runs if r["family"] == f]) for f in chosen},
        "runs": runs,
    }
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(json.dumps(result["families"], indent=1))


if __name__ == "__main__":
    main()
