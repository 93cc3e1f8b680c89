"""Queue pages and search at scale, measured through the real views (Django's test client,
in-process, against the configured database).

    THIRDWAY_HOME=var-bench python bench/tickets_queue.py --repeat 20

Uses the demo logins (desk agent: every ticket; partner: their clients'), so load the demo
and seed tickets first (bench/seed_tickets.py).  Prints one JSON object with p50/p95 in ms
(wall clock) and the median CPU time of this process per request.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from thirdway.accounts.models import User  # noqa: E402
from thirdway.tickets.models import Ticket  # noqa: E402

TERMS = [
    "printer",
    "vpn offline",
    "outlook",
    "sharepoint crash",
    "backup",
    "quickbooks",
    "phishing",
    "router firewall",
    "licence",
    "voicemail",
]


def _timed(client: Client, url: str, repeat: int) -> dict:
    client.get(url)  # warm caches and connections
    samples, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    samples.sort()
    # The CPU time of this process (Python; the database's own work is not in it) moves less
    # than the wall-clock time with whatever else runs on a shared machine.
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[math.ceil(len(samples) * 0.95) - 1], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
    }


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    desk, partner = _client("demo-desk"), _client("demo-partner")
    result: dict = {"database": connection.vendor, "tickets": Ticket.objects.count()}
    for name, client, queues in (
        ("desk", desk, ["mine", "unassigned", "triage", "waiting", "all"]),
        ("partner", partner, ["mine", "unassigned", "waiting", "all"]),
    ):
        result[f"queue_{name}"] = {
            queue: _timed(client, f"/tickets/?queue={queue}", args.repeat) for queue in queues
        }
        result[f"queue_{name}"]["all_page_20"] = _timed(
            client, "/tickets/?queue=all&page=20", args.repeat
        )
        result[f"search_{name}"] = {
            term: _timed(client, f"/tickets/search?q={term.replace(' ', '+')}", args.repeat // 2)
            for term in TERMS
        }
    result["api_list_desk"] = _timed(desk, "/api/v1/tickets?limit=50", args.repeat)
    worst = lambda group: max(v["p95_ms"] for v in result[group].values())  # noqa: E731
    result["summary"] = {
        "queue_p95_ms_worst": max(worst("queue_desk"), worst("queue_partner")),
        "search_p95_ms_worst": max(worst("search_desk"), worst("search_partner")),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
