"""Benchmark: starting a playbook run of many steps (a parent ticket and one per step).

Run from the repository root on an empty database (SQLite under THIRDWAY_HOME, or PostgreSQL
with THIRDWAY_DATABASE_URL); it migrates, then makes its own practice, client and template:

    THIRDWAY_HOME=$(mktemp -d) .venv/bin/python bench/playbook_run.py [--steps 40] [--runs 7]

The template has ``--steps`` steps (every fifth one blocking, the rest asking for nothing), in a
practice that dispatches on its own.  Each of ``--runs`` runs is started as the whole request
does it, in one transaction up to its commit (when the new tickets' dispatch is queued), and
timed; the first run is left out of the figures (it warms the caches).  Prints one JSON object
with the median and 95th percentile (nearest rank) in seconds, and the queries of a run.
``--profile`` prints the top of a cProfile of one more run instead of the JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from thirdway.audit.models import Source  # noqa: E402
from thirdway.clients.models import Client  # noqa: E402
from thirdway.network.models import Practice  # noqa: E402
from thirdway.playbooks import runs, services  # noqa: E402
from thirdway.playbooks.models import Playbook, PlaybookStep, PlaybookVersion  # noqa: E402


def _template(steps: int) -> Playbook:
    practice = Practice.objects.create(name="Bench practice", slug="bench", auto_dispatch=True)
    playbook = Playbook.objects.create(practice=practice, name="Bench onboarding")
    version = PlaybookVersion.objects.create(playbook=playbook, number=1)
    PlaybookStep.objects.bulk_create(
        PlaybookStep(
            version=version,
            position=n,
            title=f"Step {n} of the bench",
            instructions="Do what the step says, then note what was done.",
            expected_minutes=30,
            blocking=n % 5 == 0,
        )
        for n in range(1, steps + 1)
    )
    version.published_at = version.created_at
    version.save(update_fields=["published_at"])
    return playbook


def _start(actor, playbook: Playbook, client: Client) -> None:
    with transaction.atomic():
        runs.start_run(actor, playbook, client, source=Source.API)


def _timed(actor, playbook, client) -> float:
    began = time.perf_counter()
    _start(actor, playbook, client)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.steps <= 100 or not 2 <= args.runs <= 50:
        sys.exit("--steps: 1 to 100; --runs: 2 to 50")
    call_command("migrate", verbosity=0)
    if Playbook.objects.filter(name="Bench onboarding").exists():
        sys.exit("Run on an empty database: the bench template is already there.")
    playbook = _template(args.steps)
    client = Client.objects.create(name="Bench client", time_zone="Europe/Paris", country="FR")
    actor = services.playbooks_actor()
    times = [_timed(actor, playbook, client) for _ in range(args.runs)][1:]
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(_start, actor, playbook, client)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return
    with CaptureQueriesContext(connection) as queries:
        _start(actor, playbook, client)
    ordered = sorted(times)
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "steps": args.steps,
                "runs_timed": len(times),
                "median_seconds": round(statistics.median(times), 3),
                "p95_seconds": round(ordered[max(1, math.ceil(0.95 * len(ordered))) - 1], 3),
                "queries_per_run": len(queries),
            }
        )
    )


if __name__ == "__main__":
    main()
