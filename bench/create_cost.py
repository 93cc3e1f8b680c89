"""What a hand-written write path could save when a ticket is opened: CPU per ticket, measured.

Opening a ticket through the service (``create_ticket``) costs Python CPU for the ORM (building
the statements, the model's save machinery, ``full_clean``), for our own work (cleaning the
body, the search text, the audit diff) and for the database driver; the database spends its
own CPU in another process.  This bench measures, per ticket, on the database of THIRDWAY_HOME
/ THIRDWAY_DATABASE_URL (load the demo first):

- ``service``: ``create_ticket`` as the API calls it (one transaction), CPU of this process;
- ``statements``: the very statements one ``create_ticket`` sends (its reads and its writes,
  captured with their parameters), replayed through a plain cursor for each new ticket, ids
  substituted.  No statement building at all: the floor of any hand-written path that sends
  the same statements, with none of our own work;
- ``writes``: only the write statements (ticket, first article, search row where SQLite keeps
  it, audit record) replayed the same way: the floor for the hottest statement set alone;
- ``api``: the whole request, ``POST /api/v1/tickets`` with a bearer token and an
  Idempotency-Key through Django's test client in this process (no socket, no HTTP server):
  what a ticket opened through the API costs in Python, of which ``service`` is a part;
- for each, on PostgreSQL, the CPU of the database backend from ``/proc`` (same machine).

    THIRDWAY_HOME=var python bench/create_cost.py --tickets 400 --repeat 3

Prints one JSON object.  The saving a hand-written path could buy is at most ``service``
minus ``statements``, out of the CPU of a whole request (``api`` here; ``bench/tickets_api.py``
adds a real HTTP server and client).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402

from thirdway.accounts.models import User  # noqa: E402
from thirdway.accounts.services import issue_token  # noqa: E402
from thirdway.clients.models import Client  # noqa: E402
from thirdway.tickets.services.opening import create_ticket  # noqa: E402

SUBJECT = "Printer on the second floor jams every morning"
BODY = "It jams on the first job of the day.\n\nThe tray is full and the paper is new."


def _backend_cpu() -> float:
    """Seconds of CPU the PostgreSQL backend serving this connection has used (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _open(actor: User, client: Client) -> int:
    return create_ticket(actor, client, subject=SUBJECT, body_text=BODY, source="api").pk


def _poster(actor: User, client: Client):
    """A function that opens one ticket through the API, as an integration would."""
    _, secret = issue_token(actor, f"bench-{uuid.uuid4().hex[:8]}", source="cli")
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")
    payload = json.dumps({"client": client.pk, "subject": SUBJECT, "body_text": BODY})

    def post() -> None:
        answer = http.post(
            "/api/v1/tickets",
            payload,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        if answer.status_code != 201:
            sys.exit(f"the API answered {answer.status_code}: {answer.content[:300]!r}")

    return post


def _capture(actor: User, client: Client) -> tuple[int, list[tuple[str, object, bool]]]:
    """One create_ticket's statements with their parameters, and the id of its ticket."""
    captured: list[tuple[str, object, bool]] = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params, many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        pk = _open(actor, client)
    return pk, [(sql, params, many) for sql, params, many in captured if params is not None]


def _with_ticket(sql: str, params, many: bool, old: int, new: int):
    """The parameters of a statement written after the ticket, pointing at the new ticket."""

    def one(value):
        if value == old:
            return new
        if isinstance(value, str) and str(old) in value:
            return value.replace(f"ticket:{old}", f"ticket:{new}").replace(f"'{old}'", f"'{new}'")
        return value

    if many:
        return [tuple(one(v) for v in row) for row in params]
    values = [one(v) for v in params]
    if sql.startswith('INSERT INTO "audit_auditrecord"'):
        values[6] = str(new)  # object_id
    return values


def _replay(statements: list[tuple[str, object, bool]], old: int) -> int:
    """Send the captured statements through a plain cursor; the new ticket's id."""
    new = old
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params, many in statements:
            if sql.startswith('INSERT INTO "tickets_ticket"'):
                cursor.execute(sql, params)
                new = cursor.fetchone()[0]
                continue
            args = _with_ticket(sql, params, many, old, new)
            if many:
                cursor.executemany(sql, args)
            else:
                cursor.execute(sql, args)
    return new


def _per_ticket(run, tickets: int) -> dict[str, float]:
    cpu, db = time.process_time(), _backend_cpu()
    wall = time.perf_counter()
    for _ in range(tickets):
        run()
    return {
        "cpu_ms": round((time.process_time() - cpu) * 1000 / tickets, 3),
        "db_cpu_ms": round((_backend_cpu() - db) * 1000 / tickets, 3),
        "wall_ms": round((time.perf_counter() - wall) * 1000 / tickets, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=400, help="tickets per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (median kept)")
    args = parser.parse_args()

    actor = User.objects.filter(role="practice_admin", is_active=True).order_by("pk").first()
    client = Client.objects.order_by("pk").first()
    if actor is None or client is None:
        sys.exit("load the demo first (thirdway demo)")
    for _ in range(20):  # warm: imports, caches, prepared plans
        _open(actor, client)
    old, statements = _capture(actor, client)
    writes = [s for s in statements if s[0].lstrip().upper().startswith("INSERT")]

    post = _poster(actor, client)
    for _ in range(20):
        post()
    paths = {
        "api": post,
        "service": lambda: _open(actor, client),
        "statements": lambda: _replay(statements, old),
        "writes": lambda: _replay(writes, old),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    for _ in range(args.repeat):
        for name, run in paths.items():
            runs[name].append(_per_ticket(run, args.tickets))

    def median(name: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[name]), 3)

    result = {
        "database": connection.vendor,
        "tickets_per_run": args.tickets,
        "repeat": args.repeat,
        "statements_per_ticket": len(statements),
        "writes_per_ticket": len(writes),
        "load_average": os.getloadavg()[0],
        **{
            name: {key: median(name, key) for key in ("cpu_ms", "db_cpu_ms", "wall_ms")}
            for name in paths
        },
    }
    service, floor = result["service"]["cpu_ms"], result["statements"]["cpu_ms"]
    result["most_a_hand_written_path_saves_ms"] = round(service - floor, 3)
    whole = result["api"]["cpu_ms"] + result["api"]["db_cpu_ms"]
    result["share_of_a_whole_request"] = round((service - floor) / whole, 3)
    result["runs"] = runs
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
