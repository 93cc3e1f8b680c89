"""The database's part of a backup: a consistent copy taken while the desk keeps writing, and
its load into an empty database.

SQLite is copied through its online backup API in one step: in WAL mode the copy reads one
snapshot while writers go on.  PostgreSQL is dumped by ``pg_dump --format=custom`` (one
snapshot too) and loaded by ``pg_restore``.  Both work from a Django database settings
dictionary, so a restore can target a database Django is not connected to.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from thirdway.backup.archive import BackupRefused

SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"


def vendor(config: dict[str, Any]) -> str:
    return "sqlite" if config["ENGINE"].endswith("sqlite3") else "postgresql"


# --- SQLite ------------------------------------------------------------------------------------


def copy_sqlite(live: sqlite3.Connection, target: Path) -> dict[str, Any]:
    """Copy the live database to ``target`` (a self-contained file, rollback journal) and check
    the copy; what the manifest says of it."""
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the copy reads a single snapshot under a read lock, which in
        # WAL mode does not stop writers.
        live.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")
        _require_intact(copy, "the copy of the database")
    finally:
        copy.close()
    return {"vendor": "sqlite", "dump": SQLITE_DUMP, "sqlite_version": sqlite3.sqlite_version}


def sqlite_migrations(path: Path) -> dict[str, list[str]]:
    """The migrations applied in a SQLite file, by app, in the order they were applied."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        has_table = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='django_migrations'"
        ).fetchone()
        if not has_table:
            return {}
        return _by_app(db.execute("SELECT app, name FROM django_migrations ORDER BY id"))


def sqlite_tables(path: Path) -> list[str]:
    """The tables of a SQLite file (none if there is no file)."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        return [name for (name,) in rows]


def load_sqlite(dump: Path, target: Path) -> None:
    """Put a checked dump in place as the database at ``target`` (which has no tables)."""
    with closing(sqlite3.connect(dump)) as db:
        _require_intact(db, "the database in the backup")
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(dump, target)


def _require_intact(db: sqlite3.Connection, what: str) -> None:
    answer = db.execute("PRAGMA integrity_check").fetchall()
    if answer != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in answer[:3])
        raise BackupRefused(f"SQLite's integrity check fails on {what}: {problems}")


def _by_app(rows: Any) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return applied


# --- PostgreSQL --------------------------------------------------------------------------------


def _client_env(config: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for the database of ``config``: no password on a command line."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": config.get("HOST"),
        "PGPORT": config.get("PORT"),
        "PGUSER": config.get("USER"),
        "PGPASSWORD": config.get("PASSWORD"),
        "PGDATABASE": config.get("NAME"),
        "PGSSLMODE": (config.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({name: str(value) for name, value in pairs.items() if value})
    return env


def _tool(name: str) -> tuple[str, int]:
    """The path of a PostgreSQL client tool and its major version."""
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"{name} is not on PATH: install the PostgreSQL client tools of your server's "
            "version (Debian: postgresql-client) to back up or restore PostgreSQL."
        )
    answer = subprocess.run(  # noqa: S603
        [found, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", answer)
    return found, int(match.group(1)) if match else 0


def _run(argv: list[str], config: dict[str, Any], what: str) -> None:
    done = subprocess.run(  # noqa: S603
        argv, env=_client_env(config), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupRefused(f"{what} failed: {' / '.join(detail[-3:]) or 'no message'}")


def dump_postgres(config: dict[str, Any], server_major: int, target: Path) -> dict[str, Any]:
    """Dump the database with pg_dump (custom format); what the manifest says of it."""
    pg_dump, major = _tool("pg_dump")
    if major < server_major:
        raise BackupRefused(
            f"pg_dump {major} cannot dump a PostgreSQL {server_major} server: install the "
            f"PostgreSQL {server_major} client tools (Debian: postgresql-client-{server_major}) "
            "and put their pg_dump first on PATH."
        )
    _run([pg_dump, "--format=custom", "--no-password", f"--file={target}"], config, "pg_dump")
    return {
        "vendor": "postgresql",
        "dump": POSTGRES_DUMP,
        "server_major": server_major,
        "pg_dump_major": major,
    }


def load_postgres(config: dict[str, Any], dump: Path, dump_major: int) -> None:
    """Load a dump into the (empty) database of ``config`` in one transaction."""
    pg_restore, major = _tool("pg_restore")
    if major < dump_major:
        raise BackupRefused(
            f"This backup was dumped by pg_dump {dump_major}; pg_restore {major} cannot read "
            f"it. Install the PostgreSQL {dump_major} client tools and put their pg_restore "
            "first on PATH."
        )
    argv = [
        pg_restore,
        "--no-password",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={config['NAME']}",
        str(dump),
    ]
    _run(argv, config, "pg_restore")


def postgres_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
        "'information_schema') ORDER BY tablename"
    )
    return [name for (name,) in cursor.fetchall()]


def postgres_migrations(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return _by_app(cursor.fetchall())
