"""The network's notifications by e-mail: sent through the outbox to a real SMTP server
(aiosmtpd), to the person concerned only, as they chose, never threaded into the ticket."""

from __future__ import annotations

import email
import email.policy

import pytest

from thirdway.audit.models import Source
from thirdway.mail import services
from thirdway.mail.models import (
    BouncingAddress,
    NotificationKind,
    OutboundMessage,
    OutboundStatus,
    ThreadReference,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Notification
from thirdway.tickets.models import NotificationKind as Kind
from thirdway.tickets.notifications import services as notifications
from thirdway.tickets.notifications import triggers

pytestmark = pytest.mark.django_db


def flush() -> list[str]:
    """What the worker does after commit: send every pending message once."""
    pending = OutboundMessage.objects.filter(status=OutboundStatus.PENDING).order_by("id")
    return [services.send(pk) for pk in pending.values_list("pk", flat=True)]


def received(smtp_server) -> list[tuple[list[str], email.message.EmailMessage]]:
    return [
        (to, email.message_from_bytes(content, policy=email.policy.default))
        for _, to, content in smtp_server.messages
    ]


def open_ticket(cast, **extra):
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Printer on fire",
        body_text="The printer in the back office is on fire.",
        practice_id=cast.security.pk,
        source=Source.WEB,
        **extra,
    )


def notices() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(kind=NotificationKind.NOTICE).order_by("id"))


def test_an_assignment_is_mailed_to_the_assignee_alone(cast, smtp_server, settings):
    settings.SITE_URL = "https://desk.example"
    ticket = open_ticket(cast)
    tickets.assign(cast.desk, ticket, cast.partner_record, source=Source.WEB)
    assert flush() == [OutboundStatus.SENT]
    [(to, message)] = received(smtp_server)
    assert to == ["paula@network.example"]
    assert message["Subject"] == f"[{ticket.number}] Assigned to me: Printer on fire"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] is None and message["In-Reply-To"] is None
    body = message.get_content()
    assert f"Assigned to you by Dean Desk: {ticket.number} Printer on fire." in body
    assert f"https://desk.example/tickets/{ticket.number}/" in body
    assert "https://desk.example/notifications/settings/" in body
    # the notice is no part of the ticket's conversation: an answer cannot thread into it
    assert not ThreadReference.objects.filter(message_id=notices()[0].message_id).exists()


def test_a_client_reply_is_mailed_to_the_assignee_not_to_the_client(cast, smtp_server):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    flush()
    smtp_server.messages.clear()
    tickets.reply(cast.client_user, ticket, body_text="Still burning!", source=Source.WEB)
    flush()
    [(to, message)] = received(smtp_server)
    assert to == ["paula@network.example"]
    assert "Still burning!" in message.get_content()


def test_repeats_within_minutes_send_one_mail(cast, smtp_server):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    for text in ("One.", "Two.", "Three."):
        tickets.reply(cast.client_user, ticket, body_text=text, source=Source.WEB)
    # one for the assignment, one for the replies
    assert [n.subject.split("]")[1].strip() for n in notices()] == [
        "Assigned to me: Printer on fire",
        "The client replied on my ticket: Printer on fire",
    ]
    assert Notification.objects.count() == 2


def test_a_kind_turned_off_stays_in_the_app_and_sends_no_mail(cast, smtp_server):
    notifications.save_preferences(cast.partner, email_kinds=[Kind.SLA_BREACH], source=Source.WEB)
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    assert Notification.objects.filter(recipient=cast.partner).count() == 1
    assert notices() == []


def test_mail_goes_to_the_address_chosen(cast, smtp_server):
    notifications.save_preferences(
        cast.partner,
        email_kinds=[Kind.SLA_BREACH],
        email="Pager@Network.example",
        source=Source.WEB,
    )
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    assert triggers.sla_step(cast.partner_record, ticket, True, "SLA resolution breached.")
    assert flush() == [OutboundStatus.SENT]
    [(to, message)] = received(smtp_server)
    assert to == ["pager@network.example"]
    assert message["Subject"].startswith(f"[{ticket.number}] SLA breach:")


def test_a_mention_is_mailed_to_the_person_named_only(cast, smtp_server):
    ticket = open_ticket(cast)
    tickets.note(cast.desk, ticket, body_text="@paula have a look", source=Source.WEB)
    flush()
    assert [to for to, _ in received(smtp_server)] == [["paula@network.example"]]


def test_a_bouncing_address_is_kept_back_with_the_reason(cast, smtp_server):
    from django.utils import timezone

    BouncingAddress.objects.create(address="paula@network.example", last_bounced_at=timezone.now())
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    [notice] = notices()
    assert notice.status == OutboundStatus.SUPPRESSED and "bounces" in notice.last_error
    assert flush() == [] and smtp_server.messages == []


def test_a_refusing_server_is_retried_like_any_other_mail(cast, smtp_server):
    smtp_server.refuse = (451, "try later")
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    assert flush() == [OutboundStatus.RETRYING]
    smtp_server.refuse = None
    [notice] = notices()
    assert notice.attempts == 1 and "451" in notice.last_error


def test_the_network_s_notices_have_no_template_a_practice_could_edit(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.save_template(
            cast.admin, kind=NotificationKind.NOTICE, subject="x", body="y", source=Source.WEB
        )
