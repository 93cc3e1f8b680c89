"""Run the simulator's scenario sets and check the aims of the dispatch issue; prints JSON.

    .venv/bin/python bench/simulate.py [--sets small,medium] [--large] [--no-bound]
        [--out result.json]

Each scenario of bench/scenarios/ runs every policy on the same arrivals (what
``thirdway simulate`` does) with the engine's default weights. ``--large`` also writes and
runs the large set (2,000 partners, about 200,000 tickets; it takes a long time). The
``aims`` section compares, for every scenario at 85 % load or more: Thirdway's response-SLA
attainment with the best other policy and with the offline bounds, its travel with skill
filter + least-loaded's, and Thirdway's decision and re-optimisation times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    from thirdway.dispatch import comparison, scenario
except ModuleNotFoundError:  # not installed: run straight from the source tree
    sys.path.insert(0, str(HERE.parent / "src"))
    from thirdway.dispatch import comparison, scenario


def aims(result: dict) -> dict:
    """The figures the issue's aims are about, for one scenario's result."""
    policies = result["policies"]
    ours = policies["thirdway"]
    others = {name: m["response_sla"] for name, m in policies.items() if name != "thirdway"}
    best = max(others, key=others.get)
    out = {
        "load": result["offered_load"],
        "thirdway_response_sla": ours["response_sla"],
        "best_other": best,
        "best_other_response_sla": others[best],
        "lead_over_best_other": round(ours["response_sla"] - others[best], 2),
        "travel_ratio_to_skill_least_loaded": round(
            ours["travel_km"] / max(policies["skill_least_loaded"]["travel_km"], 1e-9), 3
        ),
        "decision_ms_p99": ours["decision_ms"]["p99"],
        "reoptimise_ms_p99": ours["reoptimise_ms"]["p99"],
        "largest_reoptimised_queue": ours["reoptimise_ms"]["largest_queue"],
    }
    bounds = result.get("offline_bound", {})
    for name in ("any_team_member", "qualified", "within_radius"):
        if "response_sla" in bounds.get(name, {}):
            out[f"bound_{name}"] = bounds[name]["response_sla"]
            out[f"gap_to_bound_{name}"] = round(
                bounds[name]["response_sla"] - ours["response_sla"], 2
            )
    return out


def scenario_files(sets: list[str], large: bool) -> list[Path]:
    files = [p for s in sets for p in sorted((HERE / "scenarios").glob(f"{s}-*.json"))]
    if large:
        sys.path.insert(0, str(HERE / "scenarios"))
        import make_scenarios

        folder = Path(tempfile.mkdtemp(prefix="thirdway-large-"))
        for load in make_scenarios.SIZES["large"][-1]:
            document = make_scenarios.make_scenario("large", load)
            path = folder / f"large-{load}.json"
            path.write_text(json.dumps(make_scenarios.calibrate(document, load)))
            files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="small,medium")
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--no-bound", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    began = time.perf_counter()
    results = []
    for path in scenario_files([s for s in args.sets.split(",") if s], args.large):
        model = scenario.load(path)
        result = comparison.simulate(model, with_bound=not args.no_bound)
        result["aims"] = aims(result)
        results.append(result)
        print(f"{model.name}: {json.dumps(result['aims'])}", file=sys.stderr)
    output = {
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "aims": {r["scenario"]: r["aims"] for r in results},
        "results": results,
    }
    text = json.dumps(output, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
