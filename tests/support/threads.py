"""Threads that share the test database, each on its own connection."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from django.db import connection, connections


@pytest.fixture
def threads_db(tmp_path):
    """Call it once the data is in place; it gives a context manager that connects the current
    thread to the database the threads share.

    On PostgreSQL that is the test database itself.  SQLite's test database lives in memory
    with a shared cache, where a writer makes the others fail at once ("table is locked")
    instead of waiting for it as they do on the WAL file a practice runs on; so threads work on
    a file copy of it, opened with the production options (WAL, busy timeout, IMMEDIATE).
    Use with ``@pytest.mark.django_db(transaction=True)``, so the copy holds the fixtures.
    """

    def snapshot():
        if connection.vendor != "sqlite":
            return contextlib.nullcontext
        path = tmp_path / "threads.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        connection.connection.backup(copy)
        copy.close()
        file_settings = {**connection.settings_dict, "NAME": str(path)}

        @contextlib.contextmanager
        def use():
            original = connections["default"]
            on_file = type(original)(file_settings, "default")
            connections["default"] = on_file
            try:
                yield
            finally:
                on_file.close()
                connections["default"] = original

        return use

    return snapshot
