"""Whole installations of Thirdway for the backup tests: a home folder and a database of their
own, driven through the ``thirdway`` command as an operator drives it.

On the SQLite run each installation is a folder; on the PostgreSQL run each also has a
database of its own on the suite's server, created here and dropped when the test ends.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from support.migrated import Template

TIMEOUT = 180


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"


def _server() -> dict[str, Any]:
    config = settings.DATABASES["default"]
    return {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or "",
    }


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as db:
        db.execute(statement)  # type: ignore[arg-type]


@dataclass
class Installation:
    """One Thirdway: its home folder and, on PostgreSQL, its database."""

    home: Path
    database: str | None = None
    created: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)  # the demo's, when it has one

    @property
    def url(self) -> str | None:
        if self.database is None:
            return None
        server = _server()
        login = server["user"] + (f":{server['password']}" if server["password"] else "")
        return f"postgres://{login}@{server['host']}:{server['port']}/{self.database}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
        env["THIRDWAY_HOME"] = str(self.home)
        if self.url:
            env["THIRDWAY_DATABASE_URL"] = self.url
        return env | extra

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "thirdway", *args],
            env=self.env(**extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def start(self, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "thirdway", *args],
            env=self.env(**extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def shell(self, code: str, **extra: str) -> str:
        """Run Python in this installation's Django (``thirdway manage shell -c``); its output."""
        done = self.run("manage", "shell", "-v", "0", "-c", code, **extra)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # --- reading it directly, as the tests' own eyes -------------------------------------------

    def query(self, sql: str) -> list[tuple]:
        if self.database is None:
            with sqlite3.connect(self.home / "thirdway.sqlite3") as db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(dbname=self.database, **_server()) as db:
            return db.execute(sql).fetchall()  # type: ignore[arg-type]

    def tables(self) -> list[str]:
        if self.database is None:
            if not (self.home / "thirdway.sqlite3").exists():
                return []
            sql = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return sorted(name for (name,) in self.query(sql))

    def rows(self) -> dict[str, dict[str, tuple]]:
        """Every row of every table, keyed by table then by its first column."""
        found = {}
        for table in self.tables():
            if self.database is None and "_fts" in table:
                continue  # SQLite's full-text shadow tables follow their content table
            rows = self.query(f'SELECT * FROM "{table}"')  # noqa: S608
            found[table] = {repr(row[0]): tuple(repr(value) for value in row) for row in rows}
        return found

    def files(self) -> dict[str, str]:
        """The stored files, by path under ``files/``, with their SHA-256."""
        root = self.home / "files"
        if not root.is_dir():
            return {}
        return {
            path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in root.rglob("*")
            if path.is_file()
        }


def new_installation(home: Path, migrated: Template | None = None) -> Installation:
    """An empty installation: a home folder and, on PostgreSQL, a new empty database; with
    ``migrated`` (the run's template) its database is already migrated, as after a first
    ``thirdway manage migrate``."""
    if not on_postgres():
        if migrated is not None:
            migrated.into(home, None)
        return Installation(home)
    name = f"thirdway_drill_{uuid.uuid4().hex[:10]}"
    if migrated is not None:
        migrated.into(home, name)
    else:
        _admin_sql(f'CREATE DATABASE "{name}"')
    return Installation(home, name, created=[name])


def copy_installation(source: Installation, home: Path) -> Installation:
    """A copy of a whole installation (folder and database) that no process is using."""
    shutil.copytree(source.home, home)
    if source.database is None:
        return Installation(home)
    name = f"thirdway_drill_{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
    return Installation(home, name, created=[name])


def remove(installation: Installation) -> None:
    for name in installation.created:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
