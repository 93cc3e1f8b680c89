"""How fast the task worker evaluates agents' pending results; prints one JSON object.

    .venv/bin/python bench/agent_evaluation_throughput.py [--checks 1000] [--per-check 10]
                                                          [--database-url postgres://...]

Sets up as ``agent_checkins.py`` does (the small demo and ``--checks`` enrolled agents with
one disk check each, SQLite unless ``--database-url`` names a PostgreSQL database, which is
emptied), stores ``--per-check`` pending results for every check (as a backlog after a busy
minute: a value within the thresholds, collected 20 s apart, the latest now), then evaluates
them all in this process as the worker's task does (``evaluate_pending``) and reports the
results evaluated a second (wall clock), the CPU time and SQL statements per result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time

from agent_checkins import ENROL
from served import demo_home, thirdway


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--per-check", type=int, default=10)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    args = parser.parse_args()
    load_before = os.getloadavg()
    env = demo_home("thirdway-eval-bench-", args.database_url)
    made = thirdway(
        "manage", "shell", "-c", ENROL % args.checks, env=env, capture_output=True, text=True
    )
    checks = [agent["check"] for agent in json.loads(made.stdout.strip().splitlines()[-1])]
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "thirdway.settings"
    import django

    django.setup()
    from django.db import connection

    from thirdway.monitoring.models import CheckResult
    from thirdway.monitoring.pending_results import evaluate_pending

    now = dt.datetime.now(dt.UTC)
    rows = [
        CheckResult(
            check_obj_id=check,
            collected_at=now - dt.timedelta(seconds=20 * (args.per_check - 1 - n)),
            status="unknown",
            value=42.0,
            output="42 %",
            pending=True,
        )
        for check in checks
        for n in range(args.per_check)
    ]
    CheckResult.objects.bulk_create(rows, batch_size=1000)
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    cpu, wall = time.thread_time(), time.perf_counter()
    with connection.execute_wrapper(count):
        counts = evaluate_pending(limit=10**9)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    left = CheckResult.objects.filter(pending=True).count()
    evaluated = counts["evaluated"]
    report = {
        "bench": "agent_evaluation_throughput",
        "database": "postgresql" if args.database_url else "sqlite",
        "checks": len(checks),
        "results": len(rows),
        "evaluated": evaluated,
        "left_pending": left,
        "seconds": round(wall, 2),
        "results_per_second": round(evaluated / wall, 1) if wall else None,
        "cpu_ms_per_result": round(cpu * 1000 / max(evaluated, 1), 3),
        "wall_ms_per_result": round(wall * 1000 / max(evaluated, 1), 3),
        "statements_per_result": round(len(queries) / max(evaluated, 1), 3),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
