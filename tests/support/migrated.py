"""An empty, migrated database made once per test run and copied into the installations that
the command tests drive.

Migrating from nothing costs about 30 s of CPU (Django renders the model state of every
operation of every migration); copying the result costs milliseconds. The template is made by
``thirdway manage migrate`` itself, so it is exactly what an operator's first migrate makes.
The test workers of one run share it: the first that needs it makes it, under a file lock, and
every copy is taken under the same lock (PostgreSQL copies a template only while nobody else
is connected to it). Tests of migrating itself still start from nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

PREFIX = "thirdway_template_"


def template_name(root: Path) -> str:
    """The PostgreSQL template of the run whose temporary folder is ``root``: its own, so runs
    side by side on one server never drop each other's."""
    return PREFIX + hashlib.sha256(str(root).encode()).hexdigest()[:12]


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"


def server_url(database: str) -> str:
    config = settings.DATABASES["default"]
    login = (config.get("USER") or "postgres") + (
        f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    )
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{login}@{host}:{port}/{database}"


def _admin(statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(server_url("postgres"), autocommit=True) as db:
        cursor = db.execute(statement)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


class Template:
    """The run's migrated database: a SQLite file, or a database on the suite's server."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "migrated"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = template_name(root)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.folder / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _migrate(self, home: Path, url: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
        env["THIRDWAY_HOME"] = str(home)
        if url:
            env["THIRDWAY_DATABASE_URL"] = url
        done = subprocess.run(  # our own command, fixed arguments
            [sys.executable, "-m", "thirdway", "manage", "migrate", "-v", "0"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def sqlite_into(self, target: Path) -> None:
        """A migrated copy at ``target`` (a SQLite file that must not exist yet)."""
        source = self.folder / "home" / "thirdway.sqlite3"
        with self._locked():
            if not source.exists():
                self._migrate(self.folder / "home", None)
            target.parent.mkdir(parents=True, exist_ok=True)
            src, dst = sqlite3.connect(source), sqlite3.connect(target)
            try:
                src.backup(dst)  # consistent whatever the journal mode left beside the file
            finally:
                dst.close()
                src.close()

    def postgres_into(self, database: str) -> None:
        """A new database named ``database``, a copy of the migrated template."""
        with self._locked():
            found = _admin(f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'")  # noqa: S608
            if not found:
                _admin(f'CREATE DATABASE "{self.name}"')
                self._migrate(self.folder / "pg-home", server_url(self.name))
            _admin(f'CREATE DATABASE "{database}" TEMPLATE "{self.name}"')

    def into(self, home: Path, database: str | None) -> None:
        """Make ``home``'s database (``database`` on PostgreSQL, else its SQLite file) migrated."""
        if database is None:
            self.sqlite_into(home / "thirdway.sqlite3")
        else:
            self.postgres_into(database)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Template:
    """The run's migrated template, shared by its workers."""
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        root = root.parent  # the workers' folders sit side by side in the run's own
    return Template(root)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's end (the controller, or a run without workers) drops its template from the
    suite's server."""
    if hasattr(session.config, "workerinput") or not on_postgres():
        return
    root = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    try:
        _admin(f'DROP DATABASE IF EXISTS "{template_name(root)}" WITH (FORCE)')
    except Exception:  # a server already gone leaves nothing to tidy
        return


_kept: list[sqlite3.Connection] = []  # holds each in-memory test database open


def _fill_from_template(template: Template, connection: Any, name: str) -> None:
    """Make the test database ``name`` (just created by Django, still empty) a copy of the
    migrated template, so Django's own migrate finds nothing to do."""
    if connection.vendor == "sqlite":
        source = template.folder / "home" / "thirdway.sqlite3"
        with template._locked():
            if not source.exists():
                template._migrate(template.folder / "home", None)
        memory = sqlite3.connect(name, uri=True)  # shared cache: Django's connection sees it
        src = sqlite3.connect(source)
        try:
            src.backup(memory)
        finally:
            src.close()
        _kept.append(memory)
        return
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    template.postgres_into(name)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, migrated: Template
) -> None:
    """The suite's own test database starts from the template too (pytest-django creates it,
    then migrates it: here it is filled between the two)."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor == "sqlite" and not connection.creation.is_in_memory_db(
        connection.creation._get_test_db_name()
    ):
        return  # a test database in a file is left to Django
    create = connection.creation._create_test_db

    def create_from_template(verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        name = create(verbosity, autoclobber, keepdb)
        if not keepdb:
            _fill_from_template(migrated, connection, name)
        return name

    connection.creation._create_test_db = create_from_template
