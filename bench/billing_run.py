"""Benchmark: the month-end invoice run, approval and statements read from the database.

Run from the repository root on an empty database (SQLite under THIRDWAY_HOME, or PostgreSQL
with THIRDWAY_DATABASE_URL); it migrates, then inserts its own practice, partners, clients,
contracts and time:

    THIRDWAY_HOME=$(mktemp -d) .venv/bin/python bench/billing_run.py [--clients N]

Each client has a managed contract (a flat and a per-device line, two devices) and a time and
materials contract with three time entries of the month.  ``run_seconds`` makes every draft;
``approve_seconds`` numbers them all and posts their shares (``approve_drafts``, the month-end
approval); ``rerun_lines`` is what a second run made (0); ``statements_seconds`` reads every
partner's statement.  ``cpu_seconds`` is this process's CPU time per phase with its ended
worker processes' (``--workers``), apart from the load of a shared machine; PostgreSQL's own
CPU is in its server processes, given as ``server_cpu_seconds`` (every backend the bench and
its workers used) when it runs on the same machine; ``worker_peak_memory_mb`` is the largest
worker's peak (its pages shared with this process at the fork included).  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import tempfile
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from thirdway.billing import invoicing, month_end, services  # noqa: E402
from thirdway.billing.models import (  # noqa: E402
    Contract,
    ContractLine,
    Invoice,
    LedgerTransaction,
    Leg,
    TimeEntry,
    Timesheet,
)
from thirdway.billing.statements import statement  # noqa: E402
from thirdway.clients.models import Asset, Client  # noqa: E402
from thirdway.network.models import Partner, Practice  # noqa: E402

MONTH = dt.date(2026, 11, 1)
START = dt.date(2026, 1, 1)


def _seed(clients: int, partners: int, draw: random.Random) -> Practice:
    practice = Practice.objects.create(name="Bench", slug="bench")
    services.settings_of(practice)
    people = Partner.objects.bulk_create(
        Partner(
            name=f"Partner {n}",
            email=f"p{n}@bench.example",
            latitude=45.0,
            longitude=4.0,
            time_zone="Europe/Paris",
        )
        for n in range(partners)
    )
    made = Client.objects.bulk_create(
        Client(
            name=f"Client {n:06d}", lead_partner=draw.choice(people), time_zone="UTC", country="FR"
        )
        for n in range(clients)
    )
    Asset.objects.bulk_create(
        Asset(client=client, name=f"PC-{n}", kind="laptop") for client in made for n in range(2)
    )
    managed = Contract.objects.bulk_create(
        Contract(
            client=c,
            practice=practice,
            kind="managed",
            name="Managed",
            starts_on=START,
            originator=c.lead_partner,
            originated_on=START,
        )
        for c in made
    )
    hours = Contract.objects.bulk_create(
        Contract(client=c, practice=practice, kind="time_materials", name="Hours", starts_on=START)
        for c in made
    )
    line = {"vat_category": "S", "vat_rate": Decimal(20), "starts_on": START}
    ContractLine.objects.bulk_create(
        [
            ContractLine(contract=c, description="Care", unit="flat", price=Decimal(99), **line)
            for c in managed
        ]
        + [
            ContractLine(
                contract=c, description="Devices", unit="device", price=Decimal(12), **line
            )
            for c in managed
        ]
    )
    rates = ContractLine.objects.bulk_create(
        ContractLine(contract=c, description="Time", unit="hour", price=Decimal(90), **line)
        for c in hours
    )
    # The month's time is in approved weeks: the run bills only those.
    monday = MONTH - dt.timedelta(days=MONTH.weekday())
    weeks = {
        sheet.partner_id: sheet
        for sheet in Timesheet.objects.bulk_create(
            Timesheet(partner=person, week_start=monday, state="approved") for person in people
        )
    }
    TimeEntry.objects.bulk_create(
        TimeEntry(
            partner=person,
            timesheet=weeks[person.pk],
            contract_line=rate,
            worked_on=MONTH,
            worked_minutes=m,
            billable_minutes=m,
        )
        for rate in rates
        for person, m in ((draw.choice(people), draw.randint(10, 120)) for _ in range(3))
    )
    return practice


CPU: dict[str, float] = {}
SERVER_CPU: dict[str, float] = {}


def _backend_cpu(pid: int) -> float | None:
    """The CPU seconds of a PostgreSQL backend, when it runs on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# The CPU seconds each closed connection's backend had used, one line per connection: the
# parent's, closed before the workers fork, and each worker process's (``--workers``).
CLOSED_CPU = os.path.join(tempfile.mkdtemp(prefix="billing-run-"), "closed.cpu")


def _count_closed_connections() -> None:
    if connection.vendor != "postgresql":
        return
    wrapper_class = type(connections["default"])
    close = wrapper_class.close

    def close_counted(wrapper):
        if wrapper.connection is not None:
            cpu = _backend_cpu(_backend_pid(wrapper)) or 0.0
            with open(CLOSED_CPU, "a") as closed:
                closed.write(f"{cpu}\n")
        close(wrapper)

    wrapper_class.close = close_counted


def _server_cpu() -> float | None:
    """The CPU seconds of this connection's PostgreSQL backend and of the closed ones (this
    process's and the workers'), when they run on this machine."""
    if connection.vendor != "postgresql":
        return None
    own = _backend_cpu(_backend_pid(connection))
    gone = 0.0
    if os.path.exists(CLOSED_CPU):
        with open(CLOSED_CPU) as closed:
            gone = sum(float(line) for line in closed if line.strip())
    return None if own is None else own + gone


def _process_cpu() -> float:
    """This process's CPU seconds and its ended workers' (``--workers`` forks them)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


PROFILE: dict[str, str] = {}  # phase -> the file its cProfile statistics go to (--profile)


def _timed(work, name: str):
    """The result and the wall-clock seconds; this process's CPU seconds go to ``CPU`` and, on a
    local PostgreSQL, its backends' to ``SERVER_CPU`` (each apart from the machine's load)."""
    server = _server_cpu()
    started, cpu = time.perf_counter(), _process_cpu()
    if name in PROFILE:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(work)
        profiler.dump_stats(PROFILE[name])
    else:
        result = work()
    CPU[name] = round(_process_cpu() - cpu, 2)
    if server is not None and (after := _server_cpu()) is not None:
        SERVER_CPU[name] = round(after - server, 2)
    return result, round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes the run and approval share"
    )
    parser.add_argument(
        "--profile",
        metavar="PHASE=FILE",
        action="append",
        default=[],
        help="cProfile a phase (run, approve, rerun, statements) of this process into FILE",
    )
    options = parser.parse_args()
    for asked in options.profile:
        phase, _, path = asked.partition("=")
        PROFILE[phase] = path
    _count_closed_connections()
    call_command("migrate", verbosity=0)
    practice = _seed(options.clients, options.partners, random.Random(1))
    if connection.vendor == "postgresql":
        # The statistics a database in use has (autovacuum's): without them, just after the
        # bulk load, the planner takes the unbilled time of 500 clients for one row and reads
        # every unbilled entry for each part of the run (1 s a query at 10,000 clients).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    run, run_seconds = _timed(
        lambda: invoicing.run_invoices(
            None, practice, MONTH, source="cli", workers=options.workers
        ),
        "run",
    )
    approved, approve_seconds = _timed(
        lambda: month_end.approve_drafts(
            None, practice, MONTH, source="cli", workers=options.workers
        ),
        "approve",
    )
    rerun, rerun_seconds = _timed(
        lambda: invoicing.run_invoices(
            None, practice, MONTH, source="cli", workers=options.workers
        ),
        "rerun",
    )
    month = dt.date.today().replace(day=1)

    def statements() -> int:
        # each read and let go, as the pages read them: kept, 2,000 statements hold every leg
        return sum(len(statement(partner, month).rows) for partner in Partner.objects.all())

    shares, statements_seconds = _timed(statements, "statements")
    print(
        json.dumps(
            {
                "clients": options.clients,
                "workers": options.workers,
                "partners": options.partners,
                "invoices": run.invoices_made,
                "lines": run.lines_made,
                "run_seconds": run_seconds,
                "approve_seconds": approve_seconds,
                "ledger_transactions": LedgerTransaction.objects.count(),
                "ledger_legs": Leg.objects.count(),
                "rerun_lines": rerun.lines_made,
                "rerun_seconds": rerun_seconds,
                "statements_seconds": statements_seconds,
                "statement_rows": shares,
                "total_seconds": round(
                    run_seconds + approve_seconds + rerun_seconds + statements_seconds, 2
                ),
                "cpu_seconds": CPU,
                "server_cpu_seconds": SERVER_CPU,
                "drafts_left": Invoice.objects.filter(state="draft").count(),
                "approved": len(approved),
                "database": connection.vendor,
                "peak_memory_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "worker_peak_memory_mb": round(
                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
