"""The three ways in: the pipe (``thirdway mail ingest``), the HTTP endpoint, and the same
message arriving twice at the same moment."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from thirdway.mail import commands, services
from thirdway.mail.models import InboundMessage, InboundStatus
from thirdway.tickets.models import Article

from .conftest import REPO, mail


class Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@pytest.mark.django_db
def test_ingest_reads_one_message_on_standard_input(cast, helpdesk, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", Stdin(mail()))
    assert commands.run(["ingest", "--now", "--mailbox", "help"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "ticket" and answer["duplicate"] is False
    assert InboundMessage.objects.get(pk=answer["id"]).mailbox == helpdesk


@pytest.mark.django_db
def test_ingest_names_the_known_mailboxes_when_given_an_unknown_one(
    cast, helpdesk, monkeypatch, capsys
):
    monkeypatch.setattr(sys, "stdin", Stdin(mail()))
    # 75: the mail server keeps the message until the mailbox is made or the pipe fixed.
    assert commands.run(["ingest", "--now", "--mailbox", "nope"]) == 75
    assert "known: help" in capsys.readouterr().err
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_reprocess_command_runs_the_quarantine_again(cast, helpdesk, settings, capsys):
    settings.MAIL_MAX_BYTES = 500
    message, _ = services.receive_and_process(mail(body="y" * 900), mailbox=helpdesk, source="pipe")
    assert message.status == InboundStatus.QUARANTINED
    settings.MAIL_MAX_BYTES = 10_000_000
    assert commands.run(["reprocess"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ticket"


def _own_home(tmp_path) -> dict:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("THIRDWAY_")
    }
    return environment | {"THIRDWAY_HOME": str(tmp_path), "PYTHONPATH": str(REPO / "src")}


THIRDWAY = str(Path(sys.executable).with_name("thirdway"))


def test_the_thirdway_command_ingests_from_a_pipe(tmp_path, migrated):
    """As a mail server runs it: a process of its own, on its own (migrated) data folder."""
    environment = _own_home(tmp_path)
    migrated.sqlite_into(tmp_path / "thirdway.sqlite3")
    raw = mail(sender="stranger@unknown.example", message_id="<pipe@unknown.example>")
    runs = [
        subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [THIRDWAY, "mail", "ingest", "--now"],
            input=raw,
            capture_output=True,
            env=environment,
            timeout=120,
            check=False,
        )
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr.decode()
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["status"] == "unknown_client" and not first["duplicate"]
    assert second["id"] == first["id"] and second["duplicate"]


def test_four_pipes_delivering_one_message_at_once_store_it_once(tmp_path, migrated):
    """Processes racing on one SQLite file (WAL, immediate transactions), as in production."""
    environment = _own_home(tmp_path)
    migrated.sqlite_into(tmp_path / "thirdway.sqlite3")
    raw = mail(sender="stranger@unknown.example", message_id="<race@unknown.example>")
    pipes = [
        subprocess.Popen(  # noqa: S603
            [THIRDWAY, "mail", "ingest", "--now"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        for _ in range(4)
    ]
    answers = [pipe.communicate(raw, timeout=120) for pipe in pipes]
    assert [pipe.returncode for pipe in pipes] == [0] * 4, answers[0][1].decode()
    results = [json.loads(out) for out, _ in answers]
    assert len({result["id"] for result in results}) == 1
    assert sorted(result["duplicate"] for result in results) == [False, True, True, True]


@pytest.mark.django_db
def test_the_http_endpoint_takes_a_raw_message(cast, helpdesk, api_as):
    raw = mail(message_id="<http@acme.example>")
    client = api_as(cast.admin)
    url = "/api/v1/mail/inbound?mailbox=help"
    first = client.post(url, data=raw, content_type="message/rfc822")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "ticket"
    again = client.post(url, data=raw, content_type="message/rfc822")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Article.objects.filter(kind="reply").count() == 1


@pytest.mark.django_db
def test_the_http_endpoint_refuses_others_and_bad_input(cast, helpdesk, api_as):
    raw = mail()
    assert (
        api_as(cast.partner)
        .post("/api/v1/mail/inbound", data=raw, content_type="message/rfc822")
        .status_code
        == 403
    )
    assert (
        __import__("django.test", fromlist=["Client"])
        .Client()
        .post("/api/v1/mail/inbound", data=raw, content_type="message/rfc822")
        .status_code
        == 401
    )
    wrong = api_as(cast.admin).post(
        "/api/v1/mail/inbound?mailbox=nope", data=raw, content_type="message/rfc822"
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "mailbox"
    assert "help" in wrong.json()["errors"][0]["allowed"]
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_message_at_the_same_moment_makes_one_article(cast, helpdesk):
    if connection.vendor == "sqlite":
        pytest.skip(
            "the SQLite test database is in memory with table locks; "
            "test_four_pipes_delivering_one_message_at_once_store_it_once races on a file"
        )
    raw = mail(message_id="<race@acme.example>")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(services.receive_and_process(raw, mailbox=helpdesk, source="imap"))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(1 for _, created in results if created) == 1
    assert len({message.pk for message, _ in results}) == 1
    assert InboundMessage.objects.count() == 1
    assert Article.objects.filter(kind="reply").count() == 1


@pytest.mark.django_db
def test_mailboxes_and_domains_are_set_up_from_the_command_line(cast, tmp_path, capsys):
    from thirdway.audit.models import AuditRecord
    from thirdway.mail.models import ClientDomain, Mailbox

    secret = tmp_path / "imap-password"
    secret.write_text("s3cret\n")
    assert (
        commands.run(
            [
                "mailbox",
                "security",
                "--address",
                "security@desk.example",
                "--practice",
                cast.security.slug,
                "--imap-host",
                "imap.desk.example",
                "--imap-user",
                "security",
                "--imap-password-file",
                str(secret),
            ]
        )
        == 0
    )
    box = Mailbox.objects.get(name="security")
    assert box.practice == cast.security and box.imap_password == "s3cret" and box.imap_ssl
    assert commands.run(["mailbox", "security", "--after-fetch", "mark_seen"]) == 0
    assert Mailbox.objects.get(name="security").after_fetch == "mark_seen"
    assert commands.run(["mailbox", "bad", "--address", "not an address"]) == 2
    assert "Enter a valid email address" in capsys.readouterr().err
    assert commands.run(["domain", "acme.example", "--client", str(cast.acme.pk)]) == 0
    assert ClientDomain.objects.get().client == cast.acme
    assert commands.run(["domain", "acme.example", "--client", str(cast.globex.pk)]) == 2
    record = AuditRecord.objects.filter(action="mail.mailbox").first()
    assert "s3cret" not in str(record.changes)
