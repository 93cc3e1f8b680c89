"""Benchmark the type-ahead pickers as the desk uses them: one HTTP request per keystroke.

    THIRDWAY_HOME=... [THIRDWAY_DATABASE_URL=...] .venv/bin/python bench/pickers.py \
        [--requests 200] [--user demo-admin]

Run on a database holding the large demo (``thirdway demo --size large``: ~2,000 partners and
50,000 clients). Reads only. Each request goes through Django's full stack (middleware,
session, the view, the template), as the browser's would, with what people type: one to four
letters of real names, and the empty box when the field gets the focus. Prints one JSON object
with, per picker, the requests made and their p50/p95/max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import django


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--user", default="demo-admin")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client as HttpClient

    from thirdway.clients.models import Client
    from thirdway.network.models import Partner
    from thirdway.tickets.lifecycle import OPEN
    from thirdway.tickets.models import Ticket

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(args.seed)
    user = get_user_model().objects.get(username=args.user)
    http = HttpClient()
    http.force_login(user)
    client_names = list(Client.objects.values_list("name", flat=True)[:5000])
    partner_names = list(Partner.objects.filter(is_active=True).values_list("name", flat=True))
    ticket = Ticket.objects.filter(status__in=OPEN).order_by("-pk").first()
    busiest = Client.objects.annotate(n=django.db.models.Count("contacts")).order_by("-n").first()

    def typed(names: list[str]) -> str:
        if rng.random() < 0.15:
            return ""  # the box got the focus
        name = rng.choice(names)
        word = rng.choice(name.split())
        return word[: rng.randint(1, 4)]

    plans = {
        "client": (client_names, {}),
        "contact": (["a", "e", "ma", "jo", "le"], {"client": busiest.pk}),
        "partner": (partner_names, {"ticket": ticket.number if ticket else "", "none": "on"}),
    }
    report = {
        "database": connection.vendor,
        "clients": Client.objects.count(),
        "active_partners": len(partner_names),
        "requests_each": args.requests,
    }
    for kind, (names, extra) in plans.items():
        timings = []
        for _ in range(args.requests):
            params = {"field": "f", "f_search": typed(names), **extra}
            started = time.perf_counter()
            response = http.get(f"/tickets/pick/{kind}/", params, headers={"HX-Request": "true"})
            timings.append(time.perf_counter() - started)
            if response.status_code != 200:
                print(f"{kind}: {response.status_code} {response.content[:200]!r}", file=sys.stderr)
                return 1
        report[kind] = {
            "p50_ms": _pct(timings, 50),
            "p95_ms": _pct(timings, 95),
            "max_ms": _pct(timings, 100),
        }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
