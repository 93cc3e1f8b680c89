"""Search while tickets keep arriving: timed right after bulk inserts, then after ANALYZE.

Run on a database that holds the demo (``thirdway demo``); PostgreSQL is the point of it
(``THIRDWAY_DATABASE_URL``), SQLite works too:

    THIRDWAY_HOME=var-bench python bench/search_pg.py --steps 1000,50000 --repeat 20

Takes the statistics once (ANALYZE, as a desk's last autovacuum did; ``--no-first-analyze``
starts without any, as after a restore), then adds tickets in bulk (bench/seed_tickets.py)
until the database holds each step's count, and straight away -- no VACUUM, no ANALYZE --
times ``thirdway.tickets.search.search`` for a rare word (one ticket in a thousand), a common
word, a word every ticket has and two words, as the demo desk agent and the demo partner.
After the last step it runs ANALYZE and times again.  On PostgreSQL it also records the scan
nodes of each search's plan (EXPLAIN ANALYZE; ``SEARCH_BENCH_PLANS=1`` prints the plans to
stderr).  Prints one JSON object with p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_tickets  # noqa: E402

from thirdway.accounts.models import User  # noqa: E402
from thirdway.network.models import Practice  # noqa: E402
from thirdway.tickets import search as ticket_search  # noqa: E402
from thirdway.tickets.models import Ticket  # noqa: E402

RARE = "quartz"  # in one seeded ticket of a thousand
TERMS = {"rare": RARE, "common": "printer", "everywhere": "thanks", "two_words": "vpn backup"}
NODE = re.compile(
    r"(Seq Scan|Parallel Seq Scan|Bitmap Index Scan|Index Only Scan|Index Scan)"
    r"(?: using| on) (\w+)"
)


def _add(count: int, seed_value: int) -> None:
    """Add ``count`` tickets in bulk, each thousandth with the rare word."""
    import random

    rng = random.Random(seed_value)
    clients = seed_tickets._clients()
    practices = list(Practice.objects.values_list("pk", flat=True))
    if not clients:
        sys.exit("No clients: load the demo first (thirdway demo).")
    now, made = timezone.now(), 0
    while made < count:
        batch = seed_tickets._batch(rng, clients, practices, min(5000, count - made), now)
        for index, ticket in enumerate(batch):
            if (made + index) % 1000 == 0:
                ticket.subject += f" {RARE}"
                ticket.search_text += f"\n{RARE}"
        with transaction.atomic():
            seed_tickets._fill(Ticket.objects.bulk_create(batch))
        made += len(batch)


def _timed(user, query: str, repeat: int) -> dict:
    ticket_search.search(user, query)  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        ticket_search.search(user, query)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[math.ceil(len(samples) * 0.95) - 1], 2),
    }


def _plan(user, query: str) -> list[str]:
    """The scan nodes of the search's queries, as "node on relation"."""
    if connection.vendor != "postgresql":
        return []
    terms = ticket_search._terms(query)
    queries, _ = ticket_search.search_queries(user, terms, user.is_network_staff, 100)
    plan = "\n".join(query[:100].explain(analyze=True) for query in queries)
    if os.environ.get("SEARCH_BENCH_PLANS"):
        print(f"-- {user.username} {query!r}\n{plan}", file=sys.stderr)
    return sorted({f"{node} {relation}" for node, relation in NODE.findall(plan)})


def _measure(users: dict, repeat: int) -> dict:
    result: dict = {}
    for name, user in users.items():
        for label, query in TERMS.items():
            result[f"{name}_{label}"] = {**_timed(user, query, repeat), "plan": _plan(user, query)}
    result["worst_p95_ms"] = max(v["p95_ms"] for v in result.values())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", default="1000,50000", help="ticket counts to reach")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--no-first-analyze",
        action="store_true",
        help="start without statistics (as after a restore) instead of a desk's last ANALYZE",
    )
    args = parser.parse_args()
    users = {
        "desk": User.objects.get(username="demo-desk"),
        "partner": User.objects.get(username="demo-partner"),
    }
    result: dict = {"database": connection.vendor}
    if connection.vendor == "postgresql" and not args.no_first_analyze:
        # A live desk has the statistics of its last (auto)ANALYZE, taken before the new tickets.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket; ANALYZE tickets_article;")
    for step_index, target in enumerate(int(step) for step in args.steps.split(",")):
        missing = target - Ticket.objects.count()
        if missing > 0:
            started = time.perf_counter()
            _add(missing, args.seed + step_index)
            result[f"insert_{target}_seconds"] = round(time.perf_counter() - started, 1)
        result[f"after_insert_{Ticket.objects.count()}"] = _measure(users, args.repeat)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket; ANALYZE tickets_article;")
    result[f"after_analyze_{Ticket.objects.count()}"] = _measure(users, args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
