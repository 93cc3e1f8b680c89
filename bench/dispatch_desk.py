"""Benchmark dispatch as the desk runs it: partners read from the database, then the engine.

    THIRDWAY_HOME=... [THIRDWAY_DATABASE_URL=...] .venv/bin/python bench/dispatch_desk.py \
        [--tickets 50] [--queue 1000] [--repeat 5]

Run on a database holding a demo (``thirdway demo --size large``: 2,000 partners). Reads only:
nothing is assigned or recorded.  Prints one JSON object with, in milliseconds:
``partner_states`` (reading every active partner, their skills, absences, on-call turns and
loads), ``index`` (the engine's column snapshot of them), ``decision`` (one ``rank`` on a
reused index, over open tickets; p50/p99) and ``queue`` (the joint plan of up to ``--queue``
tickets, as the re-planning job makes it, from reading them to the plan).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import django


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return _ms(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--queue", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from thirdway.dispatch import engine, optimiser
    from thirdway.tickets.assignment import dispatching
    from thirdway.tickets.lifecycle import OPEN
    from thirdway.tickets.models import Ticket

    now = timezone.now()
    reads = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        states = dispatching.partner_states(now)
        reads.append(time.perf_counter() - started)
    started = time.perf_counter()
    index = engine.PartnerIndex(states, start=now)
    index_s = time.perf_counter() - started

    tickets = list(
        dispatching._loaded(Ticket.objects.filter(status__in=OPEN)).order_by("-pk")[: args.tickets]
    )
    needs = dispatching.needs_of(tickets, now)
    weights = dispatching.weights()
    decisions = []
    chosen = 0
    for need in needs:
        started = time.perf_counter()
        decision = engine.rank(need, index, weights, now)
        decisions.append(time.perf_counter() - started)
        chosen += decision.chosen is not None

    started = time.perf_counter()
    queued = list(
        dispatching._loaded(Ticket.objects.filter(status__in=OPEN, assignee__isnull=True)).order_by(
            "priority", "created_at", "pk"
        )[: args.queue]
    )
    plan = optimiser.reoptimise(
        dispatching.needs_of(queued, now),
        dispatching.partner_states(now, exclude_tickets=[t.pk for t in queued]),
        weights,
        now,
    )
    queue_s = time.perf_counter() - started

    result = {
        "database": connection.vendor,
        "partners": len(states),
        "partner_states_ms": {"median": _ms(statistics.median(reads)), "max": _ms(max(reads))},
        "index_ms": _ms(index_s),
        "decision_ms": {
            "tickets": len(decisions),
            "p50": _pct(decisions, 50),
            "p99": _pct(decisions, 99),
            "with_a_partner": chosen,
        },
        "queue": {
            "tickets": len(queued),
            "assigned": len(plan.assigned),
            "method": plan.method,
            "total_ms": _ms(queue_s),
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
