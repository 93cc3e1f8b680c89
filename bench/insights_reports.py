"""How long one client report takes to build over a year of a busy client's tickets.

    THIRDWAY_HOME=var-bench python bench/insights_reports.py --migrate --tickets 5000

Seeds, on the configured database, one client with ``--tickets`` tickets spread over the last
year (categories, devices, due times, some late), 40 devices, 30 checks with a result every
15 minutes over the reported month, alerts, expirations and ratings; and ``--noise`` tickets of
another client, so the ticket table is not the client's alone. Then times, ``--repeat`` times
each: gathering and computing the last month's and the last quarter's figures, making the
report (stored), and drawing its PDF. Prints one JSON object (milliseconds, wall clock).
The seeded rows stay (a second run adds another client).
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

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from thirdway.clients.models import Asset, Client  # noqa: E402
from thirdway.insights import report_pdf, report_sources, services  # noqa: E402
from thirdway.insights.models import CsatResponse  # noqa: E402
from thirdway.monitoring.models import Alert, Check, CheckResult  # noqa: E402
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


def _client(name: str) -> Client:
    return Client.objects.create(name=name, time_zone="Europe/Paris", country="FR")


def _tickets(client: Client, count: int, assets: list[Asset], rng: random.Random, now) -> None:
    rows = []
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
                client=client,
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
    Ticket.objects.bulk_create(rows, batch_size=2000)


def seed(count: int, noise: int, seed_value: int) -> tuple[Client, dict]:
    rng = random.Random(seed_value)
    now = timezone.now()
    started = time.perf_counter()
    client = _client(f"Bench client {time.time_ns()}")
    assets = Asset.objects.bulk_create(
        [Asset(client=client, name=f"PC-{n:03}", kind="laptop") for n in range(40)]
    )
    _tickets(client, count, assets, rng, now)
    if noise:
        _tickets(_client(f"Bench noise {time.time_ns()}"), noise, [], rng, now)
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
        "tickets": count,
        "noise_tickets": noise,
        "check_results": len(results),
        "seed_s": round(time.perf_counter() - started, 1),
    }


def timed(run, repeat: int) -> dict:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--noise", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    args = parser.parse_args()
    if args.migrate:
        call_command("migrate", verbosity=0)
    client, seeded = seed(args.tickets, args.noise, args.seed)
    today = timezone.now().date()
    month = report_sources.period_before("monthly", today)
    quarter = report_sources.period_before("quarterly", today)
    report = services.make_report(None, client, "monthly", month[0], source="cli")
    figures = {
        "database": connection.vendor,
        **seeded,
        "month_opened": report.figures["opened"],
        "month_recommendations": len(report.figures["recommendations"]),
        "build_month": timed(lambda: report_sources.build(client, "monthly", *month), args.repeat),
        "build_quarter": timed(
            lambda: report_sources.build(client, "quarterly", *quarter), args.repeat
        ),
        "pdf": timed(lambda: report_pdf.render(report, report.figures), args.repeat),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
