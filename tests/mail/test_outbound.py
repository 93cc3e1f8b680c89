"""Notifications: rendered from the practice's templates, sent over real SMTP (aiosmtpd) with
retries, threaded, marked automatic, guarded against loops and header injection."""

from __future__ import annotations

import email
import email.policy

import pytest

from thirdway.audit.models import Source
from thirdway.mail import composing, services
from thirdway.mail.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from thirdway.mail.services.outbound import due_messages
from thirdway.tickets import services as tickets

from .conftest import mail

pytestmark = pytest.mark.django_db


def flush() -> list[str]:
    """What the worker does after commit: send every pending message once."""
    pending = OutboundMessage.objects.filter(status=OutboundStatus.PENDING).order_by("id")
    return [services.send(pk) for pk in pending.values_list("pk", flat=True)]


def received(smtp_server) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(content, policy=email.policy.default)
        for _, _, content in smtp_server.messages
    ]


def ingest(raw: bytes, mailbox) -> InboundMessage:
    return services.receive_and_process(raw, mailbox=mailbox, source="pipe")[0]


def test_a_new_ticket_by_mail_is_acknowledged_in_its_thread(cast, security_box, smtp_server):
    message = ingest(mail(message_id="<first@acme.example>"), security_box)
    assert flush() == [OutboundStatus.SENT]
    (ack,) = received(smtp_server)
    number = message.ticket.number
    assert ack["To"].addresses[0].addr_spec == "alice@acme.example"
    assert f"[{number}]" in ack["Subject"]
    assert ack["Message-ID"].endswith("@desk.example>")
    assert ack["In-Reply-To"] == "<first@acme.example>"
    assert "<first@acme.example>" in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Thirdway-Loop"] == "desk.example"
    assert ack["Reply-To"].addresses[0].addr_spec == "security@desk.example"
    assert smtp_server.messages[0][0] == "desk@desk.example"  # bounces come back to us
    outbox = OutboundMessage.objects.get()
    assert outbox.status == OutboundStatus.SENT and outbox.sent_at


def test_the_client_s_answer_to_our_mail_threads_back_without_a_token(cast, helpdesk, smtp_server):
    first = ingest(mail(), helpdesk)
    flush()
    ours = OutboundMessage.objects.get().message_id
    answer = mail(subject="Re: thanks", body="More detail", headers={"In-Reply-To": f"<{ours}>"})
    second = ingest(answer, helpdesk)
    assert second.status == InboundStatus.ARTICLE and second.ticket == first.ticket


def test_a_reply_from_the_network_is_mailed_to_the_requester(cast, helpdesk, smtp_server):
    ticket = ingest(mail(), helpdesk).ticket
    tickets.reply(cast.partner, ticket, body_text="Please unplug it.", source=Source.WEB)
    flush()
    reply = received(smtp_server)[-1]
    assert "Please unplug it." in reply.get_content()
    assert reply["Auto-Submitted"] is None
    assert f"[{ticket.number}]" in reply["Subject"]


def test_resolving_a_ticket_sends_the_resolved_notice(cast, helpdesk, smtp_server):
    ticket = ingest(mail(), helpdesk).ticket
    tickets.change_status(cast.admin, ticket, "resolved", source=Source.WEB)
    flush()
    notice = received(smtp_server)[-1]
    assert notice["Subject"].startswith("Resolved:")
    assert notice["Auto-Submitted"] == "auto-generated"


def test_a_practice_edits_its_templates(cast, security_box, smtp_server):
    services.save_template(
        cast.admin,
        practice=cast.security,
        kind="received",
        subject="Security desk got it: {{ subject }}",
        body="Dear {{ contact_name }}, ticket {{ number }} is with the security team.",
        source=Source.WEB,
    )
    ticket = ingest(mail(), security_box).ticket
    flush()
    (ack,) = received(smtp_server)
    assert ack["Subject"] == f"Security desk got it: Printer on fire [{ticket.number}]"
    assert "Dear Alice Acme" in ack.get_content()


def test_a_template_that_does_not_compile_is_refused(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.save_template(
            cast.admin, kind="received", subject="{% if %}", body="x", source=Source.WEB
        )
    assert "subject" in refused.value.error_dict


@pytest.mark.parametrize(
    "header",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"X-Thirdway-Loop": "desk.example"},
    ],
)
def test_automatic_mail_gets_no_automatic_reply(cast, helpdesk, smtp_server, header):
    message = ingest(mail(headers=header), helpdesk)
    assert message.status == InboundStatus.TICKET  # still a ticket: a person may read it
    flush()
    assert smtp_server.messages == []
    held = OutboundMessage.objects.get()
    assert held.status == OutboundStatus.SUPPRESSED and "automatic" in held.last_error


def test_at_most_n_automatic_replies_per_sender_per_hour(cast, helpdesk, smtp_server, settings):
    settings.MAIL_AUTO_REPLIES_PER_HOUR = 3
    for number in range(6):
        ingest(mail(subject=f"Problem {number}"), helpdesk)
    flush()
    assert len(smtp_server.messages) == 3
    assert OutboundMessage.objects.filter(status=OutboundStatus.SUPPRESSED).count() == 3


def test_a_permanent_refusal_fails_with_the_server_s_answer(cast, helpdesk, smtp_server):
    smtp_server.refuse = (550, "5.1.1 No such mailbox here")
    ingest(mail(), helpdesk)
    assert flush() == [OutboundStatus.FAILED]
    failed = OutboundMessage.objects.get()
    assert failed.last_error == "550 5.1.1 No such mailbox here"


def test_a_temporary_refusal_is_retried_later(cast, helpdesk, smtp_server):
    smtp_server.refuse = (451, "4.3.0 Try again later")
    ingest(mail(), helpdesk)
    assert flush() == [OutboundStatus.RETRYING]
    waiting = OutboundMessage.objects.get()
    assert waiting.last_error == "451 4.3.0 Try again later" and waiting.next_attempt_at
    assert not due_messages().exists()  # not before its backoff
    smtp_server.refuse = None
    assert due_messages(waiting.next_attempt_at).exists()
    waiting.next_attempt_at = None
    OutboundMessage.objects.filter(pk=waiting.pk).update(next_attempt_at=None)
    assert services.send(waiting.pk) == OutboundStatus.SENT
    assert len(smtp_server.messages) == 1


def test_an_unreachable_server_is_retried(cast, helpdesk, settings):
    from .conftest import free_port

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    ingest(mail(), helpdesk)
    assert flush() == [OutboundStatus.RETRYING]
    assert "ConnectionRefused" in OutboundMessage.objects.get().last_error


def test_a_bouncing_address_is_not_mailed_again(cast, helpdesk, smtp_server):
    from django.utils import timezone

    from thirdway.mail.models import BouncingAddress

    BouncingAddress.objects.create(address="alice@acme.example", last_bounced_at=timezone.now())
    ingest(mail(), helpdesk)
    flush()
    assert smtp_server.messages == []
    assert "bounces" in OutboundMessage.objects.get().last_error


def test_encoded_cr_lf_in_a_subject_or_name_adds_no_header(cast, helpdesk, smtp_server):
    evil = "=?utf-8?q?Help=0D=0ABcc:_victim@evil.example=0D=0AX-Evil:_1?="
    name = "=?utf-8?q?Alice=0D=0ABcc:_victim2@evil.example?="
    raw = (
        f"From: {name} <alice@acme.example>\r\nTo: help@desk.example\r\nSubject: {evil}\r\n"
        "Message-ID: <evil@acme.example>\r\n\r\nPlease help.\r\n"
    ).encode()
    assert ingest(raw, helpdesk).status == InboundStatus.TICKET
    flush()
    (ack,) = received(smtp_server)
    assert ack["Bcc"] is None and ack["X-Evil"] is None
    assert smtp_server.messages[0][1] == ["alice@acme.example"]
    raw = composing.build(
        composing.Outgoing(
            from_address="desk@desk.example",
            from_name="Desk\r\nBcc: a@evil.example",
            to_address="bob@acme.example",
            to_name="Bob\nX-Evil: 1",
            subject="Hi\r\nBcc: b@evil.example\r\n\r\nbody",
            body="text",
            message_id="x@desk.example",
        )
    )
    built = email.message_from_bytes(raw, policy=email.policy.default)
    assert built["Bcc"] is None and built["X-Evil"] is None
    assert [line for line in raw.split(b"\r\n") if line.lower().startswith(b"bcc")] == []


@pytest.mark.parametrize("threads_its_answers", [False, True])
def test_an_auto_responder_answering_everything_gets_at_most_the_limit(
    cast, helpdesk, smtp_server, settings, threads_its_answers
):
    """The worst responder marks nothing (no Auto-Submitted, no Precedence) and answers every
    message it receives with a new message; a better one at least answers in the thread."""
    from thirdway.mail.models import ClientDomain

    settings.MAIL_AUTO_REPLIES_PER_HOUR = 4
    ClientDomain.objects.create(domain="acme.example", client=cast.acme)
    ingest(mail(sender="robot@acme.example", subject="Hello"), helpdesk)
    answered = 0
    for _round in range(50):
        flush()
        waiting = smtp_server.messages[answered:]
        if not waiting:
            break
        for _, recipients, content in waiting:
            assert recipients == ["robot@acme.example"]
            ours = email.message_from_bytes(content, policy=email.policy.default)
            headers = {"In-Reply-To": ours["Message-ID"]} if threads_its_answers else {}
            ingest(
                mail(sender="robot@acme.example", subject="I am away", headers=headers), helpdesk
            )
        answered = len(smtp_server.messages)
    else:
        pytest.fail("the mail loop did not stop")
    assert 1 <= len(smtp_server.messages) <= 4
