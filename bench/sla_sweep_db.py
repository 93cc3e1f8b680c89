"""Benchmark: the clock sweep over open tickets read from the database.

Run from the repository root on an empty database (SQLite under THIRDWAY_HOME, or PostgreSQL
with THIRDWAY_DATABASE_URL); it migrates, then inserts its own tickets:

    THIRDWAY_HOME=$(mktemp -d) .venv/bin/python bench/sla_sweep_db.py [--tickets N] [--fire M]

Open tickets get the default policy (escalation steps at 75 % and 100 %) on an office calendar
with French holidays or on a 24x7 calendar, opened half an hour ago so that no step is due.
``first_sweep_seconds`` is the first sweep after seeding (or after migration 0016 on an
existing desk): every ticket is due, so it reads every ticket and its pauses, evaluates every
clock, stores every due time and when each ticket must be read next.  ``steady_sweep_seconds``
is the sweep that runs every minute afterwards: it reads only the tickets whose next check has
come (``steady_sweep_due``, none here) and the 1,000 it re-reads in turn (``steady_sweep_read``
in all).  ``full_sweep_seconds`` reads every open ticket, as every sweep did before next checks
were stored.  Then ``--fire`` tickets are made overdue (as a change through the services would,
their next check is now) and ``fire_sweep_seconds`` times the sweep that fires their steps
(claim row, actions, timeline event each): the worst minute, when that many tickets reach
their steps at once.  Past its 40 s budget a sweep leaves the rest (``fire_sweep_left``) to the
next one (``next_sweep_*``).  Prints one JSON object.
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
from thirdway.sla import calendars  # noqa: E402
from thirdway.sla import services as sla  # noqa: E402
from thirdway.tickets.models import ClockPause, Ticket  # noqa: E402
from thirdway.tickets.sla_clocks.escalation import sweep  # noqa: E402

STEPS = {
    "first_response": [(75, ["warn_assignee"]), (100, ["notify_lead"])],
    "resolution": [(75, ["warn_assignee"]), (100, ["notify_lead"])],
}
TARGETS = {
    p: {"first_response": 240 * p, "next_response": 480 * p, "resolution": 2400 * p}
    for p in (1, 2, 3, 4)
}


def _setup():
    office = sla.create_calendar(
        None,
        name="Office",
        time_zone="Europe/Paris",
        weekly_hours={
            d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in calendars.engine.WEEKDAYS[:5]
        },
        holiday_country="FR",
        source="cli",
    )
    always = sla.create_calendar(
        None,
        name="24x7",
        time_zone="UTC",
        weekly_hours=calendars.twenty_four_seven_hours(),
        source="cli",
    )
    policy = sla.create_policy(
        None,
        name="Bench",
        calendar=office,
        targets=TARGETS,
        steps=STEPS,
        is_default=True,
        source="cli",
    )
    client = Client.objects.create(name="Bench client", time_zone="Europe/Paris", country="FR")
    return policy, (office, always), client


def _seed(total: int, policy, cals, client, now, rng: random.Random, batch: int = 5000) -> None:
    made = 0
    while made < total:
        rows = []
        for _ in range(min(batch, total - made)):
            responded = rng.random() < 0.5
            rows.append(
                Ticket(
                    client=client,
                    subject="bench",
                    priority=rng.randint(1, 4),
                    status="in_progress" if responded else "new",
                    sla_policy=policy,
                    sla_calendar=rng.choice(cals),
                    first_responded_at=now - dt.timedelta(minutes=1) if responded else None,
                    awaiting_reply_since=now - dt.timedelta(minutes=2) if responded else None,
                )
            )
        Ticket.objects.bulk_create(rows, batch_size=1000)
        made += len(rows)
    # created_at is set on insert: all opened half an hour ago, so no step is due yet.
    ids = list(Ticket.objects.values_list("pk", flat=True))
    Ticket.objects.update(created_at=now - dt.timedelta(minutes=30))
    paused = rng.sample(ids, len(ids) // 10)
    ClockPause.objects.bulk_create(
        (
            ClockPause(
                ticket_id=pk,
                reason="waiting_client",
                started_at=now - dt.timedelta(minutes=20),
                ended_at=now - dt.timedelta(minutes=10),
            )
            for pk in paused
        ),
        batch_size=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--fire", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-full", action="store_true", help="skip the full sweep (large desks)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if Ticket.objects.exists():
        sys.exit("bench/sla_sweep_db.py needs an empty database")
    rng = random.Random(args.seed)
    now = timezone.now()
    policy, cals, client = _setup()
    started = time.perf_counter()
    _seed(args.tickets, policy, cals, client, now, rng)
    seeded = time.perf_counter() - started
    first = sweep(now, budget=None)  # the catch-up, timed whole (the budget spreads it)
    steady = sweep(now + dt.timedelta(minutes=1))
    again = sweep(now + dt.timedelta(minutes=2))
    full = None if args.no_full else sweep(now + dt.timedelta(minutes=3), full=True)
    overdue = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[: args.fire])
    Ticket.objects.filter(pk__in=overdue).update(
        created_at=now - dt.timedelta(days=60), sla_check_at=now + dt.timedelta(minutes=3)
    )
    fired = sweep(now + dt.timedelta(minutes=4))
    rest = sweep(now + dt.timedelta(minutes=5))  # what the budget left to the next minute
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "open_tickets": args.tickets,
                "seed_seconds": round(seeded, 2),
                "first_sweep_seconds": round(first.seconds, 2),
                "first_sweep_moved": first.moved,
                "steady_sweep_seconds": round(steady.seconds, 2),
                "steady_sweep_again_seconds": round(again.seconds, 2),
                "steady_sweep_due": steady.due,
                "steady_sweep_read": steady.tickets,
                "steady_sweep_moved": steady.moved,
                "steady_sweep_fired": steady.fired,
                "full_sweep_seconds": full and round(full.seconds, 2),
                "full_sweep_read": full and full.tickets,
                "fire_tickets": args.fire,
                "fire_sweep_seconds": round(fired.seconds, 2),
                "fire_sweep_read": fired.tickets,
                "fire_sweep_fired": fired.fired,
                "fire_sweep_left": fired.left,
                "next_sweep_seconds": round(rest.seconds, 2),
                "next_sweep_fired": rest.fired,
                "fired": fired.fired + rest.fired,
                "failed": sum(r.failed for r in (first, steady, again, full, fired, rest) if r),
            }
        )
    )


if __name__ == "__main__":
    main()
