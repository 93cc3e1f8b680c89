"""Benchmark the desk's surge count, as every dispatch decision makes it.

    THIRDWAY_HOME=... [THIRDWAY_DATABASE_URL=...] .venv/bin/python bench/surge_count.py \
        [--links 20000] [--waiting 40] [--repeat 20]

Run on a database holding a demo (``thirdway demo``). ``--links`` first fills the history up to
that many incident links, each a resolved repeat under a resolved ticket (what a desk that links
incidents piles up over the years); ``--waiting`` opens up to that many tickets not started in
the busiest practice, a few of them linked repeats, so its queue may surge. Then, for one
waiting ticket, it times ``dispatching.needs_of`` (the engine's view of it, the surge count
included) and ``surge.surging`` alone. Prints one JSON object: the queries each makes and
their time in milliseconds (p50 and max over ``--repeat``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time

import django


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _history(links: int) -> int:
    """Resolved repeats linked under resolved tickets, added until ``links`` exist."""
    from django.db import transaction
    from django.utils import timezone

    from thirdway.tickets.models import IncidentLink, Ticket

    missing = links - IncidentLink.objects.count()
    template = Ticket.objects.order_by("pk").first()
    if missing <= 0 or template is None:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, missing, 1000):
            batch = min(1000, missing - start)
            made = Ticket.objects.bulk_create(
                [
                    _resolved(template, now - dt.timedelta(days=1 + n % 700))
                    for n in range(batch * 2)
                ]
            )
            IncidentLink.objects.bulk_create(
                IncidentLink(
                    parent=a, child=b, why="Same client, practice.", linked_at=a.created_at
                )
                for a, b in zip(made[::2], made[1::2], strict=True)
            )
    return missing


def _resolved(template, when: dt.datetime):
    from thirdway.tickets.models import Ticket

    return Ticket(
        client_id=template.client_id,
        practice_id=template.practice_id,
        subject="Tills offline",
        status="resolved",
        priority=3,
        created_at=when,
        first_responded_at=when,
        resolved_at=when,
    )


def _queue(waiting: int):
    """An open ticket of the busiest practice, with up to ``waiting`` not started beside it."""
    from django.db.models import Count

    from thirdway.tickets.assignment import surge
    from thirdway.tickets.models import IncidentLink, Ticket

    busiest = (
        Ticket.objects.exclude(practice=None)
        .values("practice_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    practice_id = busiest["practice_id"]
    template = Ticket.objects.filter(practice_id=practice_id).order_by("pk").first()
    have = surge.waiting([practice_id])[practice_id]
    if have < waiting:
        made = Ticket.objects.bulk_create(
            Ticket(
                client_id=template.client_id,
                practice_id=practice_id,
                subject=f"Storm {n}",
                status="new",
                priority=4,
            )
            for n in range(waiting - have + 4)
        )
        for parent, child in zip(made[-4:-2], made[-2:], strict=True):
            IncidentLink.objects.create(
                parent=parent, child=child, why="Same client.", linked_at=parent.created_at
            )
    return surge._not_started([practice_id]).order_by("pk").first()


def _timed(call, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as seen:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return {
        "queries": len(seen.captured_queries),
        "p50_ms": _ms(statistics.median(times)),
        "max_ms": _ms(max(times)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=0)
    parser.add_argument("--waiting", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from thirdway.tickets.assignment import dispatching, surge
    from thirdway.tickets.models import IncidentLink, Ticket

    added = _history(args.links)
    ticket = _queue(args.waiting)
    ticket = dispatching._loaded(Ticket.objects).get(pk=ticket.pk)
    now = timezone.now()
    count = surge.waiting([ticket.practice_id])[ticket.practice_id]
    result = {
        "database": connection.vendor,
        "tickets": Ticket.objects.count(),
        "incident_links": IncidentLink.objects.count(),
        "links_added": added,
        "waiting": count,
        "needs_of": _timed(lambda: dispatching.needs_of([ticket], now), args.repeat),
        "surging": _timed(
            lambda: surge.surging({ticket.practice_id}, now, for_the_drive=True), args.repeat
        ),
    }
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
