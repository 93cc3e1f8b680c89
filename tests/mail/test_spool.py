"""The mail spool: ``thirdway mail ingest --spool`` keeps a message on disk without starting
Django; the worker stores it (files deleted only after the commit) and processes it, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thirdway.clock.jobs import JOBS
from thirdway.mail import spool
from thirdway.mail.models import InboundMessage, InboundStatus
from thirdway.mail.services import drain_spool
from thirdway.tickets.models import Article, Ticket

from .conftest import REPO, mail

THIRDWAY = str(Path(sys.executable).with_name("thirdway"))


@pytest.fixture
def folder(tmp_path, settings) -> Path:
    settings.MAIL_SPOOL_DIR = tmp_path / "spool"
    return settings.MAIL_SPOOL_DIR


def pipe(folder: Path, raw: bytes, *args: str) -> subprocess.CompletedProcess:
    """As a mail server runs it: a process of its own, told only where the spool is (no
    database: a wrong one would fail if the command touched it)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    environment |= {
        "THIRDWAY_MAIL_SPOOL": str(folder),
        "THIRDWAY_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "PYTHONPATH": str(REPO / "src"),
    }
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [THIRDWAY, "mail", "ingest", "--spool", *args],
        input=raw,
        capture_output=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_the_pipe_keeps_the_message_and_the_worker_opens_the_ticket(cast, security_box, folder):
    raw = mail(subject="Phishing mail", message_id="<spool-1@acme.example>")
    run = pipe(folder, raw, "--mailbox", "security")
    assert run.returncode == 0, run.stderr.decode()
    assert json.loads(run.stdout)["bytes"] == len(raw)
    [(path, mailbox)] = spool.waiting(folder)
    assert (path.read_bytes(), mailbox) == (raw, "security")
    assert path.stat().st_mode & 0o077 == 0  # only the install's user reads mail
    assert not InboundMessage.objects.exists()  # nothing in the database yet

    assert drain_spool() == 1
    message = InboundMessage.objects.get()
    assert (bytes(message.raw), message.source, message.mailbox_name) == (raw, "pipe", "security")
    assert message.status == InboundStatus.TICKET
    assert message.ticket.subject == "Phishing mail"
    assert message.ticket.practice == cast.security  # the mailbox's practice
    assert spool.waiting(folder) == []  # deleted once stored


def test_a_file_left_by_a_crash_after_the_commit_is_not_done_twice(cast, helpdesk, folder):
    raw = mail(message_id="<spool-2@acme.example>")
    spool.put(raw, "help", folder)
    assert drain_spool() == 1
    spool.put(raw, "help", folder)  # as if the worker died before deleting the file
    assert drain_spool() == 0
    assert spool.waiting(folder) == []
    assert Ticket.objects.count() == 1
    assert Article.objects.filter(kind="reply").count() == 1


def test_many_messages_are_stored_in_chunks_in_their_order(cast, helpdesk, folder):
    subjects = [f"Question {n}" for n in range(120)]
    for subject in subjects:
        spool.put(mail(subject=subject), "help", folder)
    assert drain_spool() == 120
    opened = list(Ticket.objects.order_by("pk").values_list("subject", flat=True))
    assert opened == subjects


def test_a_mailbox_that_is_gone_leaves_the_sender_to_decide(cast, helpdesk, folder):
    spool.put(mail(sender="stranger@unknown.example"), "renamed", folder)
    assert drain_spool() == 1
    message = InboundMessage.objects.get()
    assert (message.mailbox_name, message.status) == ("", InboundStatus.UNKNOWN_CLIENT)


def test_a_spool_that_cannot_be_written_asks_the_mail_server_to_retry(tmp_path):
    blocked = tmp_path / "spool"
    blocked.write_text("a file where the folder should be")
    run = pipe(blocked, mail())
    assert run.returncode == 75
    assert run.stdout == b""
    assert "try again" in run.stderr.decode()


def test_the_worker_drains_the_spool_every_half_minute():
    [job] = [job for job in JOBS if job.name == "mail.spool"]
    assert job.task_path == "thirdway.mail.tasks.drain_spool"
    assert job.every.total_seconds() == 30


def test_the_folder_follows_the_settings_of_the_pipe(tmp_path):
    assert spool.directory({"THIRDWAY_MAIL_SPOOL": str(tmp_path)}) == tmp_path.resolve()
    home = {"THIRDWAY_HOME": str(tmp_path)}
    assert spool.directory(home) == tmp_path.resolve() / "mail-spool"


def test_files_a_pipe_never_finished_are_forgotten_after_a_day(cast, helpdesk, folder):
    spool.put(mail(), "help", folder)  # makes the folders
    old, recent = folder / "tmp" / "old", folder / "tmp" / "recent"
    old.write_bytes(b"half a message")
    recent.write_bytes(b"a message being written")
    day_ago = time.time() - 86400 - 60
    os.utime(old, (day_ago, day_ago))
    assert drain_spool() == 1
    assert sorted(p.name for p in (folder / "tmp").iterdir()) == ["recent"]
