"""Kill the poller while it works; on restart every message is processed exactly once.

The poller runs as ``thirdway mail poll`` in a process of its own, on a database of its own
(a SQLite file, or a PostgreSQL database next to the test one when the tests run on
PostgreSQL), against the dovecot of the other IMAP tests.  It is killed with SIGKILL three
times at different points of its work (fetching, committing, flagging, processing), then left
to finish.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .conftest import IMAP_PASSWORD, REPO, mail

THIRDWAY = str(Path(sys.executable).with_name("thirdway"))
MESSAGES = 40
SETUP = """
from thirdway.accounts import services as accounts
from thirdway.clients import services as clients
from thirdway.mail.models import ClientDomain, Mailbox
admin = accounts.create_user(None, username="admin", role="practice_admin", source="cli")
acme = clients.create_client(admin, name="Acme", time_zone="UTC", country="FR", source="cli")
ClientDomain.objects.create(domain="acme.example", client=acme)
Mailbox.objects.create(name="crash", address="crash@desk.example", imap_host="127.0.0.1",
    imap_port={port}, imap_ssl=False, imap_user="crash", imap_password="{password}")
"""


class Database:
    """The poller's own database, read directly by the test."""

    def __init__(self, home: Path) -> None:
        base = os.environ.get("THIRDWAY_DATABASE_URL", "")
        self.postgres = base.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parts = urlsplit(base)
            self.name = parts.path.strip("/") + "_crash"
            self.url = urlunsplit(parts._replace(path="/" + self.name))
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self._run_admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        else:
            self.url = f"sqlite:///{home / 'crash.sqlite3'}"
            self.path = home / "crash.sqlite3"

    def _run_admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def rows(self, sql: str) -> list[tuple]:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url) as connection:
                return connection.execute(sql).fetchall()
        with sqlite3.connect(self.path, timeout=30) as connection:
            return connection.execute(sql).fetchall()

    def drop(self) -> None:
        if self.postgres:
            self._run_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def crash_home(tmp_path, dovecot, migrated):
    database = Database(tmp_path)
    if database.postgres:
        migrated.postgres_into(database.name)
    else:
        migrated.sqlite_into(database.path)
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("THIRDWAY_")
    }
    environment |= {
        "THIRDWAY_HOME": str(tmp_path),
        "THIRDWAY_DATABASE_URL": database.url,
        "PYTHONPATH": str(REPO / "src"),
    }
    setup = SETUP.format(port=dovecot.port, password=IMAP_PASSWORD)
    subprocess.run(  # noqa: S603
        [THIRDWAY, "manage", "shell", "-c", setup], env=environment, check=True, timeout=120
    )
    yield environment, database
    database.drop()


def _count(database: Database, sql: str) -> int:
    try:
        return database.rows(sql)[0][0]
    except Exception:  # the table may be locked for a moment by the poller
        return -1


@pytest.mark.database
def test_a_killed_poller_leaves_every_message_processed_once(dovecot, crash_home):
    environment, database = crash_home
    connection = dovecot.connect("crash")
    connection.select("INBOX")
    connection.logout()
    for number in range(MESSAGES):
        dovecot.append(
            mail(
                sender=f"user{number % 7}@acme.example",
                subject=f"Crash test {number}",
                message_id=f"<crash-{number}@acme.example>",
            ),
            user="crash",
        )
    stored = "SELECT COUNT(*) FROM mail_inboundmessage"
    processed = "SELECT COUNT(*) FROM mail_inboundmessage WHERE status <> 'received'"
    kills = 0
    for threshold in (3, 12, 25):
        poller = subprocess.Popen(  # noqa: S603
            [THIRDWAY, "mail", "poll", "--mailbox", "crash"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while _count(database, stored) < threshold and poller.poll() is None:
            assert time.monotonic() < deadline, "the poller made no progress"
            time.sleep(0.01)
        if poller.poll() is None:
            poller.send_signal(signal.SIGKILL)
            kills += 1
        poller.wait(timeout=30)
    assert kills >= 1, "the poller finished before it could be killed"
    finished = subprocess.run(  # noqa: S603
        [THIRDWAY, "mail", "poll", "--mailbox", "crash"],
        env=environment,
        capture_output=True,
        check=True,
        timeout=300,
    )
    json.loads(finished.stdout)
    ids = database.rows("SELECT message_id, status FROM mail_inboundmessage")
    assert len(ids) == MESSAGES
    assert sorted(message_id for message_id, _ in ids) == sorted(
        f"crash-{number}@acme.example" for number in range(MESSAGES)
    )
    assert {status for _, status in ids} == {"ticket"}
    assert _count(database, processed) == MESSAGES
    assert _count(database, "SELECT COUNT(*) FROM tickets_ticket") == MESSAGES
    replies = "SELECT COUNT(*) FROM tickets_article WHERE kind = 'reply'"
    assert _count(database, replies) == MESSAGES
    assert dovecot.count("crash") == 0
