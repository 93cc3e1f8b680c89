"""The mail spool: ``thirdway mail ingest`` (the documented pipe) keeps a message on disk
without starting Django; the worker, watching the folder, stores it (files deleted only after
the commit) and processes it, once.  ``--now`` stores it at once, and every failure before a
message is kept exits 75 so the mail server keeps it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.installations import new_installation, remove
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
        [THIRDWAY, "mail", "ingest", *args],
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


def test_the_older_spool_option_still_keeps_the_message(folder):
    run = pipe(folder, mail(), "--spool", "--mailbox", "help")
    assert run.returncode == 0, run.stderr.decode()
    assert [mailbox for _, mailbox in spool.waiting(folder)] == ["help"]


def test_one_drain_at_a_time_holds_the_spool(cast, helpdesk, folder):
    spool.put(mail(), "help", folder)
    with spool.draining(folder) as mine:
        assert mine
        assert drain_spool() == 0  # another drain holds it: the files are left to it
        assert len(spool.waiting(folder)) == 1
    assert drain_spool() == 1
    assert spool.has_waiting(folder) is False


def test_the_clock_still_drains_the_spool_every_half_minute():
    """Behind the worker's watch, for a worker started without it (``--spool-interval 0``)."""
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


def _elsewhere(tmp_path, **variables: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("THIRDWAY_")}
    return (
        environment | {"THIRDWAY_HOME": str(tmp_path), "PYTHONPATH": str(REPO / "src")} | variables
    )


NOW_FAILURES = {
    "the database unreachable": {"THIRDWAY_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"},
    "a setting wrong": {"THIRDWAY_DEBUG": "maybe"},
    "the settings' module missing": {"DJANGO_SETTINGS_MODULE": "thirdway.no_such_settings"},
}


@pytest.mark.parametrize("failure", sorted(NOW_FAILURES))
def test_every_failure_before_the_message_is_stored_asks_the_mail_server_to_retry(
    tmp_path, failure
):
    run = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [THIRDWAY, "mail", "ingest", "--now", "--mailbox", "help"],
        input=mail(),
        capture_output=True,
        env=_elsewhere(tmp_path, **NOW_FAILURES[failure]),
        timeout=120,
        check=False,
    )
    assert run.returncode == 75  # EX_TEMPFAIL: kept and tried again, never bounced
    said = run.stderr.decode()
    assert "try again" in said
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1
    assert run.stdout == b""


def test_a_mistyped_pipe_is_retried_not_bounced(tmp_path):
    run = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [THIRDWAY, "mail", "ingest", "--now", "--mailbx", "help"],
        input=mail(),
        capture_output=True,
        env=_elsewhere(tmp_path),
        timeout=120,
        check=False,
    )
    assert run.returncode == 75
    assert "unrecognized arguments: --mailbx" in run.stderr.decode()


@pytest.mark.database
def test_the_worker_catches_up_on_start_then_watches_the_spool(tmp_path, migrated):
    """Messages piped while no worker runs wait in the spool; a worker started drains them,
    and makes what is piped while it runs a ticket without waiting for the clock."""
    installation = new_installation(tmp_path / "home", migrated)
    try:
        folder = installation.home / "mail-spool"
        for number in range(3):
            raw = mail(sender="stranger@unknown.example", message_id=f"<down-{number}@x>")
            assert pipe(folder, raw, "--mailbox", "help").returncode == 0
        assert len(spool.waiting(folder)) == 3
        worker = installation.start("worker")
        try:
            _wait(lambda: _stored(installation) == 3, worker)
            raw = mail(sender="stranger@unknown.example", message_id="<up@x>")
            assert pipe(folder, raw).returncode == 0
            _wait(lambda: _stored(installation) == 4, worker)
            assert spool.waiting(folder) == []
            statuses = installation.query("SELECT DISTINCT status FROM mail_inboundmessage")
            assert statuses == [("unknown_client",)]  # processed, not only stored
        finally:
            worker.terminate()
            _, err = worker.communicate(timeout=60)
        assert "watching the spool" in err
        assert not [line for line in err.splitlines() if "Traceback" in line]
        assert _watches(installation.home) == []  # a thread of the worker, no process of its own
    finally:
        remove(installation)


def _stored(installation) -> int:
    tables = installation.tables()
    if "mail_inboundmessage" not in tables:
        return 0
    [(count,)] = installation.query(
        "SELECT count(*) FROM mail_inboundmessage WHERE status != 'received'"
    )
    return count


def _watches(home: Path) -> list[int]:
    """The ids of the ``mail watch`` processes running for this home."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"watch" in command and f"THIRDWAY_HOME={home}".encode() in environment:
            found.append(int(entry.name))
    return found


def _wait(check, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a measure
    while not check():
        assert worker.poll() is None, worker.communicate()[1]
        assert time.monotonic() < deadline, "the worker did not drain the spool"
        time.sleep(0.2)
