"""``thirdway check``: is this installation sound?  Each line says what was checked and how."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rich.console import Console
from rich.table import Table


def run_checks() -> int:
    console = Console()
    table = Table("Check", "Result", "Detail")
    failures = 0
    for name, ok, detail in _results():
        failures += 0 if ok else 1
        table.add_row(name, "[green]ok[/]" if ok else "[red]problem[/]", detail)
    console.print(table)
    console.print("All good." if not failures else f"{failures} problem(s) found.")
    return 1 if failures else 0


def _results():
    database = settings.DATABASES["default"]
    yield "settings", True, f"home {settings.HOME}, debug {'on' if settings.DEBUG else 'off'}"
    try:
        connection.ensure_connection()
        yield "database", True, f"{connection.vendor} {database['NAME']}"
    except Exception as error:  # the message is what the operator needs
        yield "database", False, f"cannot connect: {error}"
        return
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    yield (
        "schema",
        not pending,
        (
            "up to date"
            if not pending
            else f"{len(pending)} migrations to apply (thirdway serve applies them)"
        ),
    )
    yield "https", True, "on" if settings.HTTPS else "off (set THIRDWAY_HTTPS=1 behind TLS)"
    yield "allowed hosts", bool(settings.ALLOWED_HOSTS), ", ".join(settings.ALLOWED_HOSTS)
    yield "task queue", True, settings.TASKS["default"]["BACKEND"]
    problems = [m for m in checks.run_checks() if m.level >= checks.WARNING]
    yield "django checks", not problems, "; ".join(str(m) for m in problems) or "no issues"


def migrate_if_needed(verbose: bool = True) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        if verbose:
            print("Updating the database schema…")
        call_command("migrate", interactive=False, verbosity=0)
