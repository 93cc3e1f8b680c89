"""How long a client report and the network's figures take on the large demo with a year of
tickets.

    THIRDWAY_HOME=var-bench python bench/insights_reports.py --migrate --demo

With ``--demo``, loads the large demo first when the database has none (about 2,000 partners
and 50,000 clients). Then, once per database (a second run reuses what the first seeded):
``--network`` tickets over the last year spread over the demo's clients (some far busier than
others), each with a practice, its client's lead partner, due times, a first response and, for
most, a resolution; one busy client with ``--tickets`` tickets over the year (categories,
devices, some late), 40 devices, 30 checks with a result every 15 minutes over the reported
month, alerts, expirations and ratings; and the daily snapshots of the last ``--days`` days,
taken as the clock job takes them.

Then times, ``--repeat`` times each: gathering and computing the busy client's last month and
last quarter; its report's page and PDF as the practice admin gets them over HTTP; and the
network's figures as the practice admin gets them: the metrics page of the busiest practice
over 30 and 365 days, the same figures from the API, the ratings per client, and the home page's
dashboard. Prints one JSON object (milliseconds, wall clock; p50 and p95).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import time
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from thirdway.accounts.models import User  # noqa: E402
from thirdway.clients.models import Asset, Client  # noqa: E402
from thirdway.demo import ADMIN_USERNAME, load_demo  # noqa: E402
from thirdway.insights import report_sources, services, snapshots  # noqa: E402
from thirdway.insights.models import CsatResponse, DailySnapshot  # noqa: E402
from thirdway.monitoring.models import Alert, Check, CheckResult  # noqa: E402
from thirdway.network.models import Partner, Practice  # noqa: E402
from thirdway.tickets.models import Ticket  # noqa: E402
from thirdway.vault.models import ExpiryItem  # noqa: E402

CATEGORIES = ["Printing", "Network", "E-mail", "Accounts", "Hardware", "Backup", "Phones"]
SUBJECTS = [
    "Printer jams on the second floor",
    "Wi-Fi drops in the meeting room",
    "Outlook asks for the password",
    "Laptop will not start",
    "Backup job failed overnight",
    "New starter needs an account",
    "Phone line crackles",
    "VPN disconnects at home",
]


BUSY_CLIENT = "Bench report client"


def _client(name: str, lead: Partner | None) -> Client:
    return Client.objects.create(
        name=name, time_zone="Europe/Paris", country="FR", lead_partner=lead
    )


def _ticket_rows(client, count: int, assets: list, rng: random.Random, now, practices) -> list:
    rows = []
    lead_id = client.lead_partner_id
    for _ in range(count):
        created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        first_due = created + dt.timedelta(hours=rng.choice((1, 2, 4)))
        resolution_due = created + dt.timedelta(hours=rng.choice((8, 24, 72)))
        late = rng.random() < 0.12
        resolved = None
        if created < now - dt.timedelta(days=3) or rng.random() < 0.5:
            resolved = resolution_due + dt.timedelta(
                hours=rng.choice((-6, -2, 3) if late else (-6, -2))
            )
        rows.append(
            Ticket(
                client_id=client.pk,
                practice_id=rng.choice(practices) if practices else None,
                assignee_id=lead_id,
                subject=rng.choice(SUBJECTS),
                category=rng.choice(CATEGORIES),
                asset=rng.choice(assets) if assets and rng.random() < 0.6 else None,
                status="resolved" if resolved else "in_progress",
                created_at=created,
                first_response_due_at=first_due,
                first_responded_at=first_due
                + dt.timedelta(minutes=rng.choice((-50, -10, 15 if late else -5))),
                resolution_due_at=resolution_due,
                resolved_at=min(resolved, now) if resolved else None,
            )
        )
    return rows


def _network_tickets(count: int, rng: random.Random, now, practices: list[int]) -> None:
    """``count`` tickets over the year, over the demo's clients: a client's share falls with
    its rank (rank ** -0.6), as at a real cooperative."""
    clients = list(Client.objects.filter(lead_partner__isnull=False).order_by("pk")[:50000])
    weights = [rank**-0.6 for rank in range(1, len(clients) + 1)]
    rng.shuffle(weights)
    picked = Counter(rng.choices(range(len(clients)), weights=weights, k=count))
    rows: list = []
    for index, many in picked.items():
        rows += _ticket_rows(clients[index], many, [], rng, now, practices)
        if len(rows) >= 5000:
            Ticket.objects.bulk_create(rows, batch_size=2000)
            rows = []
    Ticket.objects.bulk_create(rows, batch_size=2000)


def seed(count: int, network: int, days: int, seed_value: int) -> tuple[Client, dict]:
    """The busy client, the network's year of tickets and the snapshots (once per database)."""
    found = Client.objects.filter(name=BUSY_CLIENT).first()
    if found is not None:  # an earlier run seeded it: only the days it did not reach
        return found, {"seeded": "reused", **_snapshots(timezone.now(), days)}
    rng = random.Random(seed_value)
    now = timezone.now()
    started = time.perf_counter()
    practices = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    lead = Partner.objects.filter(kind="partner").order_by("pk").first()
    client = _client(BUSY_CLIENT, lead)
    assets = Asset.objects.bulk_create(
        [Asset(client=client, name=f"PC-{n:03}", kind="laptop") for n in range(40)]
    )
    Ticket.objects.bulk_create(
        _ticket_rows(client, count, assets, rng, now, practices), batch_size=2000
    )
    _network_tickets(network, rng, now, practices)
    seeded_tickets = time.perf_counter()
    checks = Check.objects.bulk_create(
        [
            Check(
                client=client,
                asset=assets[n] if n < 25 else None,
                name=f"Check {n}",
                kind="heartbeat" if n >= 25 else "tcp",
                status="ok" if n % 7 else "critical",
            )
            for n in range(30)
        ]
    )
    month_start = (now.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    results = []
    for check in checks:
        moment = month_start
        while moment < month_start + dt.timedelta(days=31):
            results.append(
                CheckResult(
                    check_obj=check,
                    collected_at=moment,
                    status="ok" if rng.random() < 0.97 else "critical",
                )
            )
            moment += dt.timedelta(minutes=15)
    CheckResult.objects.bulk_create(results, batch_size=5000)
    alerts = []
    for _ in range(300):
        opened = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        alerts.append(
            Alert(
                check_obj=rng.choice(checks),
                client=client,
                status="resolved",
                severity="critical",
                summary="Down",
                opened_at=opened,
                last_seen_at=opened,
                resolved_at=opened + dt.timedelta(hours=2),
            )
        )
    Alert.objects.bulk_create(alerts)
    ExpiryItem.objects.bulk_create(
        [
            ExpiryItem(
                client=client,
                kind="domain",
                name=f"shop{n}.example",
                expires_on=now.date() + dt.timedelta(days=rng.randrange(-30, 120)),
            )
            for n in range(20)
        ]
    )
    rated = Ticket.objects.filter(client=client, resolved_at__isnull=False).values_list(
        "pk", flat=True
    )[:600]
    CsatResponse.objects.bulk_create(
        [
            CsatResponse(
                ticket_id=pk,
                client=client,
                score=rng.choice((5, 5, 4, 3, 1)),
                created_at=now - dt.timedelta(seconds=rng.randrange(365 * 86400)),
            )
            for pk in rated
        ]
    )
    return client, {
        "seeded": "now",
        "tickets_seed_s": round(seeded_tickets - started, 1),
        **_snapshots(now, days),
    }


def _snapshots(now, days: int) -> dict:
    """The daily snapshots of the last ``days`` days and today, as the clock job takes them
    (the days taken already are left as they are)."""
    started = time.perf_counter()
    today = now.astimezone(dt.UTC).date()
    wanted = [today - dt.timedelta(days=n) for n in range(days, -1, -1)]
    taken = set(DailySnapshot.objects.filter(day__in=wanted).values_list("day", flat=True))
    rows = sum(snapshots.take(day) for day in wanted if day not in taken)
    return {
        "snapshot_days_taken_now": len(set(wanted) - taken),
        "snapshot_rows_taken_now": rows,
        "snapshots_s": round(time.perf_counter() - started, 1),
    }


def timed(run, repeat: int) -> dict:
    run()  # warm: the first request of a kind compiles templates and fills caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "max_ms": round(samples[-1], 1),
        "p95_ms": round(samples[math.ceil(len(samples) * 0.95) - 1], 1),
    }


def fetch(http: HttpClient, url: str):
    def run() -> None:
        response = http.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=5000, help="the busy client's tickets")
    parser.add_argument("--network", type=int, default=100000, help="the network's tickets")
    parser.add_argument("--days", type=int, default=365, help="days of snapshots")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    parser.add_argument("--demo", action="store_true", help="load the large demo if missing")
    args = parser.parse_args()
    if args.migrate:
        call_command("migrate", verbosity=0)
    if args.demo and Partner.objects.count() < 1000:
        load_demo("large")
    client, seeded = seed(args.tickets, args.network, args.days, args.seed)
    today = timezone.now().date()
    month = report_sources.period_before("monthly", today)
    quarter = report_sources.period_before("quarterly", today)
    report = services.make_report(None, client, "monthly", month[0], source="cli")
    settings.ALLOWED_HOSTS = ["*"]
    # pages as served, without the collected files' manifest a bench database has no need of
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    http = HttpClient()
    http.force_login(User.objects.get(username=ADMIN_USERNAME))
    busiest = (
        DailySnapshot.objects.filter(scope="practice", category="")
        .values("subject_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "subject_id")
        .first()
    )
    practice = busiest["subject_id"] if busiest else Practice.objects.order_by("pk").first().pk
    key = f"practice:{practice}"
    api = "/api/v1/insights"
    figures = {
        "database": connection.vendor,
        **seeded,
        "partners": Partner.objects.count(),
        "clients": Client.objects.count(),
        "tickets_all": Ticket.objects.count(),
        "client_tickets_year": Ticket.objects.filter(client=client).count(),
        "snapshot_rows_all": DailySnapshot.objects.count(),
        "month_opened": report.figures["opened"],
        "month_recommendations": len(report.figures["recommendations"]),
        "report": {
            "build_month": timed(
                lambda: report_sources.build(client, "monthly", *month), args.repeat
            ),
            "build_quarter": timed(
                lambda: report_sources.build(client, "quarterly", *quarter), args.repeat
            ),
            "page": timed(fetch(http, f"/insights/reports/{report.pk}/"), args.repeat),
            "pdf": timed(fetch(http, f"/insights/reports/{report.pk}.pdf"), args.repeat),
        },
        "network": {
            "metrics_30_days": timed(
                fetch(http, f"/insights/metrics/?subject={key}&days=30"), args.repeat
            ),
            "metrics_365_days": timed(
                fetch(http, f"/insights/metrics/?subject={key}&days=365"), args.repeat
            ),
            "api_figures_365_days": timed(
                fetch(http, f"{api}/figures?scope=practice&id={practice}&days=365"), args.repeat
            ),
            "api_ratings_by_client": timed(fetch(http, f"{api}/ratings-by/client"), args.repeat),
            "home_dashboard": timed(fetch(http, "/"), args.repeat),
        },
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
