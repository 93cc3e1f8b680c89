"""The inbound pipeline: raw first, threading, sender to client, duplicates, bounces,
quarantine, reprocess and triage."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from thirdway.audit.models import Source
from thirdway.clients.models import Contact
from thirdway.mail import services
from thirdway.mail.models import (
    BouncingAddress,
    ClientDomain,
    InboundMessage,
    InboundSource,
    InboundStatus,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Article, Ticket

from .conftest import mail

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, mailbox=None) -> InboundMessage:
    message, _ = services.receive_and_process(raw, mailbox=mailbox, source=InboundSource.PIPE)
    return message


def test_a_contact_s_mail_opens_a_ticket_in_their_name(cast, security_box):
    message = ingest(mail(attachments=[("fire.txt", "text/plain", b"smoke")]), security_box)
    assert message.status == InboundStatus.TICKET
    ticket = message.ticket
    assert ticket.client == cast.acme
    assert ticket.requester == cast.acme_admin_contact
    assert ticket.channel == "email"
    assert ticket.practice == cast.security
    article = ticket.articles.get(kind="reply")
    assert article.author == cast.client_admin
    assert "on fire" in article.body_text
    assert article.attachments.get().filename == "fire.txt"


def test_the_opening_article_and_the_audit_trail_are_recorded(cast, helpdesk):
    from thirdway.audit.models import AuditRecord

    message = ingest(mail(message_id="<trail@acme.example>"), helpdesk)
    assert message.article == message.ticket.articles.get(kind="reply")
    stored = InboundMessage.objects.get(pk=message.pk)
    assert (stored.status, stored.article, stored.attempts) == ("ticket", message.article, 1)
    trail = AuditRecord.objects.filter(actor=None, source=Source.SYSTEM)
    receipt = trail.get(action="mail.receive")
    assert (receipt.object_id, receipt.scope) == (str(message.pk), "mailbox:help")
    processed = trail.get(action="mail.process")
    assert processed.scope == f"ticket:{message.ticket.pk}"
    assert processed.changes == {"status": ["received", "ticket"]}
    queued = trail.get(action="mail.queue")
    assert queued.scope == f"ticket:{message.ticket.pk}"


def test_a_ticket_s_thread_holds_the_message_and_its_acknowledgement(cast, helpdesk):
    from thirdway.mail.models import OutboundMessage, ThreadReference

    message = ingest(mail(message_id="<thread@acme.example>"), helpdesk)
    acknowledgement = OutboundMessage.objects.get(ticket=message.ticket, kind="received")
    thread = ThreadReference.objects.filter(ticket=message.ticket).order_by("id")
    assert list(thread.values_list("message_id", flat=True)) == [
        acknowledgement.message_id,
        "thread@acme.example",
    ]
    assert b"In-Reply-To: <thread@acme.example>" in bytes(acknowledgement.raw)


def test_the_raw_bytes_are_kept_exactly(cast, helpdesk):
    raw = mail(body="Ünïcode and bytes\r\nkept")
    message = ingest(raw, helpdesk)
    assert bytes(InboundMessage.objects.get(pk=message.pk).raw) == raw


def test_a_reply_with_the_ticket_token_is_added_to_the_ticket(cast, helpdesk):
    first = ingest(mail(), helpdesk)
    number = first.ticket.number
    second = ingest(mail(subject=f"Re: Printer on fire [{number}]", body="Still burning"), helpdesk)
    assert second.status == InboundStatus.ARTICLE
    assert second.ticket == first.ticket
    assert Ticket.objects.count() == 1


def test_a_reply_is_threaded_by_in_reply_to(cast, helpdesk):
    first = ingest(mail(message_id="<m1@acme.example>"), helpdesk)
    reply = mail(
        subject="Re: something else",
        body="More",
        headers={"In-Reply-To": "<m1@acme.example>", "References": "<m1@acme.example>"},
        sender="bob@acme.example",
    )
    second = ingest(reply, helpdesk)
    assert second.status == InboundStatus.ARTICLE
    assert second.ticket == first.ticket
    assert second.article.author == cast.client_user


def test_quoted_history_is_folded_out_of_the_article(cast, helpdesk):
    body = "Thanks, that worked.\n\nOn Mon, 1 Dec 2026, Desk wrote:\n> Try turning it off\n> and on"
    message = ingest(mail(body=body), helpdesk)
    assert message.article.body_text == "Thanks, that worked."
    assert b"Try turning it off" in bytes(message.raw)


def test_a_token_from_a_stranger_is_quarantined(cast, helpdesk):
    first = ingest(mail(), helpdesk)
    stranger = mail(
        sender="gina@globex.example", subject=f"Re: [{first.ticket.number}]", body="Let me in"
    )
    message = ingest(stranger, helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert "neither a contact" in message.reason
    assert first.ticket.articles.filter(kind="reply").count() == 1


def test_a_watcher_may_answer_by_mail(cast, helpdesk):
    first = ingest(mail(), helpdesk)
    tickets.set_watchers(cast.admin, first.ticket, [cast.partner], source=Source.CLI)
    answer = mail(sender=cast.partner.email, subject=f"Re: [{first.ticket.number}]", body="On it")
    message = ingest(answer, helpdesk)
    assert message.status == InboundStatus.ARTICLE
    assert message.article.author == cast.partner


def test_an_unknown_sender_at_a_client_domain_becomes_a_contact(cast, helpdesk):
    ClientDomain.objects.create(domain="acme.example", client=cast.acme)
    message = ingest(mail(sender="Carla Crumb <carla@acme.example>"), helpdesk)
    assert message.status == InboundStatus.TICKET
    contact = Contact.objects.get(email="carla@acme.example")
    assert contact.client == cast.acme and contact.name == "Carla Crumb"
    assert message.ticket.requester == contact


def test_anyone_else_goes_to_triage_and_can_be_assigned(cast, helpdesk):
    message = ingest(mail(sender="someone@nowhere.example"), helpdesk)
    assert message.status == InboundStatus.UNKNOWN_CLIENT
    assert Ticket.objects.count() == 0
    after = services.assign_to_client(cast.desk, message, cast.globex, source=Source.WEB)
    assert after.status == InboundStatus.TICKET
    assert after.ticket.client == cast.globex


def test_the_same_message_twice_is_one_article(cast, helpdesk):
    raw = mail(message_id="<twice@acme.example>")
    first, created = services.receive_and_process(raw, mailbox=helpdesk, source="pipe")
    again, created_again = services.receive_and_process(raw, mailbox=helpdesk, source="imap")
    assert created and not created_again
    assert first.pk == again.pk
    assert Article.objects.filter(kind="reply").count() == 1


def test_a_message_over_the_size_limit_is_quarantined_and_kept(cast, helpdesk, settings):
    settings.MAIL_MAX_BYTES = 1000
    raw = mail(body="x" * 5000)
    message = ingest(raw, helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert "size limit" in message.reason
    assert bytes(message.raw) == raw


def test_reprocess_runs_a_quarantined_message_again(cast, helpdesk, settings):
    settings.MAIL_MAX_BYTES = 1000
    message = ingest(mail(body="x" * 5000), helpdesk)
    settings.MAIL_MAX_BYTES = 10_000_000
    after = services.reprocess(cast.admin, message, source=Source.WEB)
    assert after.status == InboundStatus.TICKET


def test_only_a_practice_admin_may_reprocess(cast, helpdesk, settings):
    settings.MAIL_MAX_BYTES = 1000
    message = ingest(mail(body="x" * 5000), helpdesk)
    with pytest.raises(PermissionDenied):
        services.reprocess(cast.partner, message, source=Source.WEB)


def test_mail_from_our_own_address_is_quarantined(cast, helpdesk):
    message = ingest(mail(sender="help@desk.example"), helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert "loop" in message.reason


def test_a_delivery_report_notes_the_ticket_and_marks_the_address(cast, helpdesk):
    first = ingest(mail(message_id="<orig@acme.example>"), helpdesk)
    report = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        b"To: desk@desk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce1@mx.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\n"
        b"Final-Recipient: rfc822; alice@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <orig@acme.example>\r\nSubject: Printer on fire\r\n"
        b"--B--\r\n"
    )
    message = ingest(report, helpdesk)
    assert message.status == InboundStatus.BOUNCE
    assert message.ticket == first.ticket
    note = first.ticket.articles.get(kind="note")
    assert "alice@acme.example" in note.body_text and "5.1.1" in note.body_text
    assert BouncingAddress.objects.get(address="alice@acme.example").last_status == "5.1.1"


def test_a_reply_the_ticket_services_refuse_is_quarantined_with_their_reason(
    cast, helpdesk, settings
):
    settings.TICKET_REOPEN_DAYS = 0
    first = ingest(mail(), helpdesk)
    for status in ("resolved", "closed"):
        tickets.change_status(cast.admin, first.ticket, status, source=Source.CLI)
    message = ingest(mail(subject=f"Re: [{first.ticket.number}]", body="hello"), helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert "open a new ticket" in message.reason
