"""The drill: a demo practice at work, a backup taken while tickets are being written, restored
into another installation, which then holds the same rows and files and lets the demo sign in."""

from __future__ import annotations

import json

import pytest

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db  # the suite's own database is not used; its server may be

CHANGES = """
from thirdway.accounts.models import User
from thirdway.clients.models import Client
from thirdway.tickets import services
admin = User.objects.get(username="demo-admin")
client = Client.objects.order_by("pk").first()
ticket = services.create_ticket(
    admin, client, subject="Drill: the printer is on fire", body_text="Smoke since nine.",
    uploads=[services.Upload("smoke.txt", b"smoke\\n" * 500)], source="cli",
)
services.note(
    admin, ticket, body_text="Extinguisher used.",
    uploads=[services.Upload("after.txt", b"calm\\n" * 300)], source="cli",
)
"""

# Writes tickets one after another until the stop file appears, printing each id once it is
# committed.
WRITER = """
import os, pathlib, sys
from thirdway.accounts.models import User
from thirdway.clients.models import Client
from thirdway.tickets import services
admin = User.objects.get(username="demo-admin")
clients = list(Client.objects.order_by("pk")[:5])
stop = pathlib.Path(os.environ["DRILL_STOP"])
number = 0
while not stop.exists():
    ticket = services.create_ticket(
        admin, clients[number % 5], subject=f"Written during the backup {number}",
        body_text="Still typing.", source="cli",
    )
    print(ticket.pk, flush=True)
    number += 1
"""

SIGN_IN = """
import json, os
from django.contrib.auth import authenticate
from django.test import Client
answers = {}
for name in json.loads(os.environ["DRILL_LOGINS"]):
    browser = Client()
    password = os.environ["DRILL_PASSWORD"]
    page = browser.post("/accounts/login/", {"username": name, "password": password})
    answers[name] = [authenticate(username=name, password=password) is not None,
                     page.status_code, "_auth_user_id" in browser.session]
print(json.dumps(answers))
"""


def test_a_backup_taken_while_tickets_are_written_restores_the_same_rows_files_and_logins(
    demo_copy, empty, tmp_path
):
    site = demo_copy
    demo_files = len(site.files())  # the demo's own (the vault's sample files)
    site.shell(CHANGES)
    assert len(site.files()) == demo_files + 2
    stop = tmp_path / "stop"
    writer = site.start("manage", "shell", "-v", "0", "-c", WRITER, DRILL_STOP=str(stop))
    try:
        written_before = [writer.stdout.readline() for _ in range(3)]  # writing has begun
        assert all(line.strip().isdigit() for line in written_before), written_before
        at_start = site.rows()
        taken = site.run("backup", "--to", str(tmp_path / "backups"))
    finally:
        stop.touch()
        _, writer_errors = writer.communicate(timeout=120)
    assert taken.returncode == 0, taken.stderr
    assert writer.returncode == 0, writer_errors
    after = site.rows()
    (archive,) = (tmp_path / "backups").glob("*.tar.gz")

    restored = empty.run("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    got = empty.rows()
    assert set(got) == set(at_start)
    for table, rows in at_start.items():
        # every row there when the backup began is there, and nothing that never existed
        assert set(rows) <= set(got[table]) <= set(after[table]), table
        if rows == after[table]:  # a table the writer left alone is exactly the same
            assert got[table] == rows, table
    assert empty.files() == site.files()
    if empty.database is None:
        assert empty.query("PRAGMA integrity_check") == [("ok",)]

    check = empty.run("check")
    assert check.returncode == 0, check.stdout
    signed_in = json.loads(
        empty.shell(
            SIGN_IN,
            DRILL_LOGINS=json.dumps(site.logins),
            DRILL_PASSWORD=DEMO_PASSWORD,
            THIRDWAY_ALLOWED_HOSTS="testserver",
        )
    )
    assert signed_in == {name: [True, 302, True] for name in site.logins}
