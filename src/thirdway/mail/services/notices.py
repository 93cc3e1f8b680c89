"""The network's notifications by e-mail: each new notification whose recipient wants its kind
by mail becomes one outbox message, sent by the worker like every other (retries, audit).

Registered with ``tickets.notifications.services.mail_with`` at start-up.  These messages are
not part of the ticket's conversation: no thread reference is remembered and no Reply-To is
given, so an answer never lands on the ticket as a reply to the client; they say where to act.
"""

from __future__ import annotations

import email.utils

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.mail import composing
from thirdway.mail.models import BouncingAddress, NotificationKind, OutboundMessage, OutboundStatus
from thirdway.mail.services.outbound import BOUNCING, mail_domain
from thirdway.tickets.models import Notification
from thirdway.tickets.models import NotificationKind as StaffKind


def link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def notice_body(notification: Notification) -> str:
    ticket = notification.ticket
    act = ""
    if notification.kind == StaffKind.OFFERED:
        act = f"Accept or decline it: {link(reverse('tickets:offers'))}\n"
    elif notification.kind == StaffKind.NEXT_TICKET:
        act = f"Take it (Take my next ticket): {link(reverse('tickets:queue'))}?queue=mine\n"
    return (
        f"{notification.text}\n\n"
        f"{act}"
        f"Open the ticket: {link(reverse('tickets:detail', args=[ticket.number]))}\n"
        f"Your notifications: {link(reverse('notifications:list'))}\n\n"
        "-- \nThirdway. Nobody reads answers to this message: act on the ticket.\n"
        f"Choose what comes by e-mail: {link(reverse('notifications:settings'))}\n"
    )


def queue_notice(notification: Notification, address: str) -> OutboundMessage | None:
    """Render one notification for ``address`` into the outbox (once per notification)."""
    ticket = notification.ticket
    recipient = notification.recipient
    return queue_letter(
        address,
        to_name=recipient.get_full_name() or recipient.get_username(),
        subject=f"[{ticket.number}] {notification.get_kind_display()}: {ticket.subject}",
        body=notice_body(notification),
        dedupe_key=f"notice:{notification.pk}",
        ticket=ticket,
    )


def queue_letter(
    address: str,
    *,
    to_name: str,
    subject: str,
    body: str,
    dedupe_key: str,
    ticket=None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> OutboundMessage | None:
    """Put one message from the network (no reply expected) into the outbox, once per
    ``dedupe_key``: None when the address is empty or the key was queued already. Used for
    notifications, and for the rooms beside this one through
    ``tickets.notifications.services.send_letter`` (a released client report, its PDF among
    ``attachments``: file name, MIME type, content)."""
    address = address.strip().lower()
    if not address:
        return None
    held = BOUNCING if BouncingAddress.objects.filter(address=address).exists() else ""
    sender_name, sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    subject = composing.one_line(subject, 300)
    message_id = composing.new_message_id(mail_domain())
    raw = composing.build(
        composing.Outgoing(
            from_address=sender,
            from_name=sender_name or "Thirdway",
            to_address=address,
            to_name=to_name,
            subject=subject,
            body=body,
            message_id=message_id,
            auto_submitted="auto-generated",
            loop_value=mail_domain(),
            attachments=tuple(attachments),
        )
    )
    outgoing = OutboundMessage(
        ticket=ticket,
        kind=NotificationKind.NOTICE,
        dedupe_key=dedupe_key,
        to_address=address,
        subject=subject,
        message_id=message_id,
        raw=raw,
        # not counted against the allowance of automatic replies to a client's address
        automatic=False,
        status=OutboundStatus.SUPPRESSED if held else OutboundStatus.PENDING,
        last_error=held,
    )
    try:
        with transaction.atomic():
            outgoing.save(force_insert=True)
    except IntegrityError:
        return None
    scope = f"ticket:{ticket.pk}" if ticket is not None else ""
    record(None, "mail.queue", outgoing, source=Source.SYSTEM, scope=scope)
    if not held:
        from thirdway.mail.tasks import send_outbound

        transaction.on_commit(lambda pk=outgoing.pk: send_outbound.enqueue(pk))
    return outgoing
