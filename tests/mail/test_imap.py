"""Polling a real IMAP server (Debian's dovecot, started here on a free loopback port)."""

from __future__ import annotations

import pytest

from thirdway.clock.jobs import JOBS
from thirdway.mail import fetching
from thirdway.mail.models import AfterFetch, InboundMessage, InboundStatus, Mailbox
from thirdway.mail.tasks import poll_mailboxes
from thirdway.tickets.models import Article, Ticket

from .conftest import mail

pytestmark = pytest.mark.django_db


def test_the_poller_fetches_stores_and_then_removes(cast, empty_inbox):
    box = empty_inbox.mailbox()
    sent = [mail(subject=f"Issue {number}") for number in range(3)]
    for raw in sent:
        empty_inbox.append(raw)
    counts = fetching.poll(box)
    assert counts == {"fetched": 3, "new": 3, "duplicates": 0}
    assert empty_inbox.count() == 0
    assert Ticket.objects.count() == 3
    # Stored byte for byte as the server holds them (IMAP lines end in CRLF).
    stored = sorted(bytes(message.raw) for message in InboundMessage.objects.all())
    assert stored == sorted(raw.replace(b"\n", b"\r\n") for raw in sent)


def test_mark_seen_leaves_messages_on_the_server(cast, empty_inbox):
    box = empty_inbox.mailbox(after_fetch=AfterFetch.MARK_SEEN)
    empty_inbox.append(mail())
    assert fetching.poll(box)["new"] == 1
    assert empty_inbox.count() == 1
    assert fetching.poll(box)["fetched"] == 0  # seen now: not fetched again


def test_a_message_left_on_the_server_is_not_processed_twice(cast, empty_inbox):
    """As after a crash between commit and removal: the next poll sees it again."""
    box = empty_inbox.mailbox()
    raw = mail(message_id="<left@acme.example>")
    empty_inbox.append(raw)
    fetching.poll(box)
    empty_inbox.append(raw)
    assert fetching.poll(box) == {"fetched": 1, "new": 0, "duplicates": 1}
    assert Article.objects.filter(kind="reply").count() == 1


def test_several_mailboxes_map_to_practices(cast, empty_inbox):
    general = empty_inbox.mailbox()
    Mailbox.objects.create(
        name="broken", address="x@desk.example", imap_host="127.0.0.1", imap_port=1, imap_ssl=False
    )
    empty_inbox.append(mail())
    general.practice = cast.security
    general.save()
    results = fetching.poll_all()
    assert results["help"]["new"] == 1
    assert "error" in results["broken"]
    assert Mailbox.objects.get(name="broken").last_poll_error
    assert Ticket.objects.get().practice == cast.security


def test_the_clock_polls_the_mailboxes(cast, empty_inbox):
    assert "thirdway.mail.tasks.poll_mailboxes" in {job.task_path for job in JOBS}
    empty_inbox.mailbox()
    empty_inbox.append(mail())
    result = poll_mailboxes.call()
    assert result["help"]["new"] == 1
    assert InboundMessage.objects.get().status == InboundStatus.TICKET


def test_a_full_mailbox_is_emptied_in_batches(cast, empty_inbox, monkeypatch):
    monkeypatch.setattr(fetching, "BATCH", 4)
    box = empty_inbox.mailbox()
    for number in range(10):
        empty_inbox.append(mail(subject=f"Batch {number}"))
    assert fetching.poll(box)["new"] == 10
    assert empty_inbox.count() == 0


def test_the_same_message_twice_in_one_fetch_is_one_row(cast, empty_inbox):
    box = empty_inbox.mailbox()
    raw = mail(message_id="<twice@acme.example>")
    empty_inbox.append(raw)
    empty_inbox.append(raw)
    empty_inbox.append(mail(subject="Another"))
    assert fetching.poll(box) == {"fetched": 3, "new": 2, "duplicates": 1}
    assert empty_inbox.count() == 0
    assert InboundMessage.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_a_chunk_is_stored_with_a_receipt_record_per_message(cast, empty_inbox, monkeypatch):
    from thirdway.audit.models import AuditRecord

    monkeypatch.setattr(fetching, "CHUNK", 3)
    box = empty_inbox.mailbox()
    for number in range(7):
        empty_inbox.append(mail(subject=f"Chunk {number}"))
    assert fetching.poll(box)["new"] == 7
    stored = set(InboundMessage.objects.values_list("pk", flat=True))
    for action in ("mail.receive", "mail.process"):
        records = AuditRecord.objects.filter(action=action, object_type="mail.inboundmessage")
        assert {int(pk) for pk in records.values_list("object_id", flat=True)} == stored
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {InboundStatus.TICKET}
