"""Benchmark: the maintenance-schedule sweep over many schedules.

Run from the repository root on an empty database (SQLite under THIRDWAY_HOME, or PostgreSQL
with THIRDWAY_DATABASE_URL); it migrates, then inserts its own schedules:

    THIRDWAY_HOME=$(mktemp -d) .venv/bin/python bench/recurrence_sweep.py [--schedules N] [--due M]

``--schedules`` weekly schedules (Monday 08:00 Paris, lead one day) are spread over 200
clients, their next occurrences over the coming four weeks; ``--due`` of them have their lead
time come now.  ``due_seconds`` times what a sweep decides is due (``due_found`` schedules);
``sweep_seconds`` the full sweep that then claims each due schedule and opens its ticket
(``made``); ``idle_sweep_seconds`` the next sweep, when nothing is due any more.  Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from thirdway.clients.models import Client  # noqa: E402
from thirdway.playbooks import schedules  # noqa: E402
from thirdway.playbooks.models import Schedule, ScheduleMakes  # noqa: E402

RULE = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"
LEAD = 1440


def _seed(count: int, due: int, now: dt.datetime) -> None:
    clients = Client.objects.bulk_create(
        [
            Client(name=f"Bench client {n}", time_zone="Europe/Paris", country="FR")
            for n in range(200)
        ]
    )
    rng = random.Random(19)
    start = dt.datetime(2026, 1, 5, 7, tzinfo=dt.UTC)  # a Monday, 08:00 Paris
    rows = []
    for n in range(count):
        if n < due:  # lead time already come: the occurrence is within the next day
            next_at = now + dt.timedelta(minutes=rng.randint(1, LEAD - 1))
        else:
            next_at = now + dt.timedelta(minutes=rng.randint(LEAD + 1, 28 * 1440))
        rows.append(
            Schedule(
                client=clients[n % len(clients)],
                name=f"Patch {n}",
                rule=RULE,
                starts_at=start,
                time_zone="Europe/Paris",
                lead_minutes=LEAD,
                makes=ScheduleMakes.TICKET,
                next_at=next_at,
                make_at=schedules.make_at(next_at, LEAD),
            )
        )
    Schedule.objects.bulk_create(rows, batch_size=2000)


def _timed(call):
    began = time.perf_counter()
    result = call()
    return result, round(time.perf_counter() - began, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=200)
    args = parser.parse_args()
    if not 1 <= args.schedules <= 1_000_000 or not 0 <= args.due <= args.schedules:
        sys.exit("--schedules: 1 to 1,000,000; --due: 0 to --schedules")
    call_command("migrate", verbosity=0)
    if Schedule.objects.exists():
        sys.exit("Run on an empty database: schedules are already there.")
    now = timezone.now()
    _, seed_seconds = _timed(lambda: _seed(args.schedules, args.due, now))
    found, due_seconds = _timed(lambda: schedules.due_schedules(now))
    counts, sweep_seconds = _timed(lambda: schedules.sweep(now))
    idle, idle_seconds = _timed(lambda: schedules.sweep(now))
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "schedules": args.schedules,
                "seed_seconds": round(seed_seconds, 1),
                "due_found": len(found),
                "due_seconds": due_seconds,
                "made": counts["made"],
                "failed": counts["failed"],
                "sweep_seconds": sweep_seconds,
                "per_ticket_ms": round(1000 * sweep_seconds / max(counts["made"], 1), 1),
                "idle_sweep_made": idle["made"],
                "idle_sweep_seconds": idle_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
