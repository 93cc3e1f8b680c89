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
from django.db.models import Count  # noqa: E402
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


def _token_client(user: User) -> Client:
    """A test client that calls the API with a fresh token of ``user``."""
    from thirdway.accounts.services import issue_token

    _, secret = issue_token(user, f"bench-{time.time_ns()}", source="cli")
    return Client(headers={"authorization": f"Bearer {secret}"})


def _scale(result: dict, repeat: int) -> None:
    """More pages: each role (a practice admin, a partner, a client admin and a client user),
    deep pages, common filters and sort orders, the portal, the API list and search per role."""
    admin = User.objects.get(username="demo-admin")
    partner = User.objects.get(username="demo-partner")
    client_admin = User.objects.get(username="client-admin@demo.thirdway.example")
    client_user = User.objects.get(username="client-user@demo.thirdway.example")
    busiest = (
        Ticket.objects.values("client_id").order_by().annotate(n=Count("id")).order_by("-n")[:1]
    )
    busy_client = busiest[0]["client_id"] if busiest else 1
    pages = {
        "admin": (
            _client(admin.username),
            [
                "/tickets/?queue=all",
                "/tickets/?queue=all&page=200",
                "/tickets/?queue=all&status=open&sort=sla",
                "/tickets/?queue=all&status=open&sort=priority",
                "/tickets/?queue=all&sort=created",
                "/tickets/?queue=all&sort=number&page=100",
                f"/tickets/?queue=all&client={busy_client}",
                f"/tickets/?queue=all&client={busy_client}&status=open",
                "/tickets/?queue=all&priority=1&status=open",
                "/tickets/?queue=all&resolved=7d",
                "/tickets/?queue=waiting&page=20",
                "/tickets/?queue=all&q=printer",
            ],
        ),
        "partner": (
            _client(partner.username),
            [
                "/tickets/?queue=all&page=200",
                "/tickets/?queue=all&status=open&sort=sla",
                "/tickets/?queue=all&sort=created",
                "/tickets/?queue=all&status=closed",
                "/tickets/?queue=unassigned&page=10",
                "/tickets/?queue=all&q=printer",
            ],
        ),
        "client_admin": (
            _client(client_admin.username),
            ["/portal/", "/portal/?page=20", "/portal/?show=mine", "/portal/?q=printer"],
        ),
        "client_user": (_client(client_user.username), ["/portal/", "/portal/?q=printer"]),
    }
    for role, (client, urls) in pages.items():
        result[f"pages_{role}"] = {url: _timed(client, url, repeat) for url in urls}
    api = {
        "admin": _token_client(admin),
        "partner": _token_client(partner),
        "client_admin": _token_client(client_admin),
    }
    api_urls = [
        "/api/v1/tickets?limit=50",
        "/api/v1/tickets?limit=50&offset=5000",
        API_OPEN_BY_PRIORITY,
        "/api/v1/tickets/search?q=printer",
        "/api/v1/tickets/search?q=quartz",
        "/api/v1/tickets/search?q=zircon",
    ]
    for role, client in api.items():
        result[f"api_{role}"] = {url: _timed(client, url, repeat) for url in api_urls}
        # The same depth read on by cursor: the page after row 5,000 (cursor from offset 4,950).
        for label, url in (
            ("after row 5000", "/api/v1/tickets?limit=50&offset=4950"),
            ("open by priority, page 2 by after", API_OPEN_BY_PRIORITY),
        ):
            cursor = client.get(url).json()["next_after"]
            if cursor is None:
                continue  # the role sees fewer tickets than that
            deeper = f"{url.split('&offset=')[0]}&after={cursor}"
            result[f"api_{role}"][label] = _timed(client, deeper, repeat)


API_OPEN_BY_PRIORITY = "/api/v1/tickets?limit=50&status=open&sort=priority"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also each role's deep pages, filters and sorts, the portal and the API per role",
    )
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
    if args.scale:
        _scale(result, args.repeat)
    worst = lambda group: max(v["p95_ms"] for v in result[group].values())  # noqa: E731
    result["summary"] = {
        "queue_p95_ms_worst": max(worst("queue_desk"), worst("queue_partner")),
        "search_p95_ms_worst": max(worst("search_desk"), worst("search_partner")),
    }
    for group in [
        key for key in result if key.startswith(("pages_", "api_")) and key != "api_list_desk"
    ]:
        result["summary"][f"{group}_p95_ms_worst"] = worst(group)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
