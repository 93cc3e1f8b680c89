"""Outgoing notifications: rendered from the practice's templates into the outbox, sent by the
worker over SMTP with retries; plus the settings a practice admin keeps (domains, templates).

A notification is a row first (in the transaction of the event that caused it) and an SMTP
conversation later, after commit.  An automatic message to a sender who already had the hourly
allowance, or who must not be answered, is kept as *not sent* with the reason, so the outbox
shows what was held back.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import smtplib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from thirdway import configcache
from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.clients.models import Client
from thirdway.clock.leases import Retried
from thirdway.errors import invalid, require_admin
from thirdway.mail import composing, threads
from thirdway.mail.models import (
    BouncingAddress,
    ClientDomain,
    InboundMessage,
    Mailbox,
    MailTemplate,
    NotificationKind,
    OutboundMessage,
    OutboundStatus,
)
from thirdway.tickets import rating_links
from thirdway.tickets.lifecycle import LABELS, Status
from thirdway.tickets.models import Ticket
from thirdway.vault.crypto import VaultError

OUTBOX = Retried(
    OutboundMessage,
    pending=OutboundStatus.PENDING,
    retrying=OutboundStatus.RETRYING,
    done=OutboundStatus.SENT,
    failed=OutboundStatus.FAILED,
    done_at="sent_at",
)
TEXT_ENGINE = Engine(autoescape=False)
# The built-in wording; a practice admin may replace any of them.
DEFAULT_TEMPLATES = {
    NotificationKind.RECEIVED: (
        "We received your request: {{ subject }}",
        "Hello {{ contact_name }},\n\nWe received your request and opened ticket {{ number }}."
        "\nReply to this message to add to it.\n\n{{ practice_name }}",
    ),
    NotificationKind.REPLY: (
        "{{ subject }}",
        "{{ text }}\n\n-- \n{{ author }}, {{ practice_name }}\nTicket {{ number }}: reply to "
        "this message to answer.",
    ),
    NotificationKind.STATUS: (
        "{{ subject }}: {{ status }}",
        "Hello {{ contact_name }},\n\nTicket {{ number }} is now: {{ status }}.\n\n"
        "{{ practice_name }}",
    ),
    NotificationKind.RESOLVED: (
        "Resolved: {{ subject }}",
        "Hello {{ contact_name }},\n\nWe consider ticket {{ number }} resolved. If it is not, "
        "reply to this message and it opens again.\n\nHow did we do? One click tells us: "
        "{{ rating_url }}\n\n{{ practice_name }}",
    ),
}
AUTOMATIC_KINDS = {
    NotificationKind.RECEIVED: "auto-replied",
    NotificationKind.STATUS: "auto-generated",
    NotificationKind.RESOLVED: "auto-generated",
}


# --- practice settings ---------------------------------------------------------------------------


@transaction.atomic
def save_template(actor, *, kind: str, subject: str, body: str, practice=None, source: str):
    """Set a practice's wording of one notification (Django template syntax, checked now)."""
    require_admin(actor)
    if kind not in DEFAULT_TEMPLATES:
        raise invalid("kind", f"Unknown notification {kind!r}.", ", ".join(DEFAULT_TEMPLATES))
    for name, text in (("subject", subject), ("body", body)):
        try:
            TEXT_ENGINE.from_string(text)
        except TemplateSyntaxError as error:
            raise invalid(
                name, f"The template does not compile: {error}", "valid template text"
            ) from error
    template, _ = MailTemplate.objects.update_or_create(
        practice=practice, kind=kind, defaults={"subject": subject, "body": body}
    )
    record(actor, "mail.template", template, source=source, changes={"kind": [None, kind]})
    return template


@transaction.atomic
def set_client_domain(actor, client: Client, domain: str, *, source: str) -> ClientDomain:
    """Declare that mail from ``domain`` comes from ``client``."""
    require_admin(actor)
    domain = domain.strip().lower().lstrip("@")
    if not domain or "." not in domain or any(c.isspace() for c in domain):
        raise invalid(
            "domain", f"{domain!r} is not a mail domain.", "a domain such as acme.example"
        )
    owner = ClientDomain.objects.filter(domain=domain).select_related("client").first()
    if owner is not None:
        raise invalid(
            "domain",
            f"{domain} already belongs to {owner.client.name}.",
            "a domain no client has",
        )
    try:
        with transaction.atomic():
            entry = ClientDomain.objects.create(domain=domain, client=client)
    except IntegrityError:
        raise invalid(
            "domain", f"{domain} already belongs to a client.", "a domain no client has"
        ) from None
    record(actor, "mail.domain", entry, source=source, changes={"client": [None, client.pk]})
    return entry


MAILBOX_FIELDS = (
    "address",
    "practice",
    "default_client",
    "imap_host",
    "imap_port",
    "imap_ssl",
    "imap_user",
    "imap_password",
    "imap_folder",
    "after_fetch",
    "is_active",
)


@transaction.atomic
def save_mailbox(actor, name: str, *, source: str, **fields) -> Mailbox:
    """Add a mailbox, or change the given fields of the one with this name."""
    require_admin(actor)
    unknown = sorted(set(fields) - set(MAILBOX_FIELDS))
    if unknown:
        raise invalid(unknown[0], "Not a mailbox setting.", ", ".join(MAILBOX_FIELDS))
    mailbox = Mailbox.objects.filter(name=name).first() or Mailbox(name=name)
    before = {field: getattr(mailbox, field, None) for field in fields if field != "imap_password"}
    for field, value in fields.items():
        setattr(mailbox, field, value)
    mailbox.full_clean()
    try:
        mailbox.save()
    except VaultError as error:
        raise invalid(
            "imap_password",
            f"The password cannot be sealed in the vault: {error}",
            "a password once the vault's master key is configured",
        ) from None
    changes = {
        field: [str(before[field]), str(value)]
        for field, value in fields.items()
        if field != "imap_password" and before[field] != value
    }
    record(actor, "mail.mailbox", mailbox, source=source, changes=changes)
    return mailbox


def add_mailbox(actor, name: str, *, source: str, **fields) -> Mailbox:
    """Add a mailbox; a name already taken is refused (``save_mailbox`` would change that one)."""
    require_admin(actor)
    if Mailbox.objects.filter(name=name).exists():
        raise invalid("name", f"A mailbox named {name!r} already exists.", "a name not yet used")
    return save_mailbox(actor, name, source=source, **fields)


@transaction.atomic
def remove_client_domain(actor, entry: ClientDomain, *, source: str) -> None:
    """Mail from the domain no longer names a client (its senders go to triage again)."""
    require_admin(actor)
    record(
        actor,
        "mail.domain.remove",
        entry,
        source=source,
        changes={"client": [entry.client_id, None]},
    )
    entry.delete()


# --- rendering into the outbox -------------------------------------------------------------------


def _template(kind: str, practice_id) -> tuple[str, str]:
    """The practice's wording, else the wording for all practices, else the built-in one
    (from the configuration cache)."""
    return configcache.get(
        ("mail.template", kind, practice_id), lambda: _read_template(kind, practice_id)
    )


def _read_template(kind: str, practice_id) -> tuple[str, str]:
    own = Q(practice_id=practice_id) if practice_id else Q(pk__in=[])
    chosen = {
        row["practice_id"]: (row["subject"], row["body"])
        for row in MailTemplate.objects.filter(own | Q(practice__isnull=True), kind=kind).values(
            "practice_id", "subject", "body"
        )
    }
    return chosen.get(practice_id) or chosen.get(None) or DEFAULT_TEMPLATES[kind]


@functools.lru_cache(maxsize=256)
def _compiled(text: str):
    """A template's text compiled once per process (the texts are few and change rarely)."""
    return TEXT_ENGINE.from_string(text)


def _render(text: str, context: dict) -> str:
    try:
        return _compiled(text).render(Context(context))
    except Exception as error:  # a broken template must not stop the desk: say so in the mail
        return f"{context.get('subject', '')} (template error: {error})"


def mail_domain() -> str:
    if settings.MAIL_DOMAIN:
        return settings.MAIL_DOMAIN
    return email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def _reply_to(ticket: Ticket) -> str:
    first = (
        InboundMessage.objects.filter(ticket=ticket, mailbox__isnull=False)
        .select_related("mailbox")
        .order_by("id")
        .first()
    )
    return first.mailbox.address if first else ""


BOUNCING = "The address bounces (a delivery report said it cannot be reached)."
BOUNCES, SENT = 1, 2


def _recent_automatic(address: str):
    """The automatic replies to ``address`` in the last hour that went or will go out."""
    since = timezone.now() - dt.timedelta(hours=1)
    return OutboundMessage.objects.filter(
        to_address=address,
        automatic=True,
        created_at__gte=since,
        status__in=[OutboundStatus.PENDING, OutboundStatus.SENT, OutboundStatus.RETRYING],
    )


def queue_notification(
    ticket: Ticket,
    kind: str,
    *,
    key: str,
    text: str = "",
    author: str = "",
    answerable: bool = True,
    answering: str = "",
    reply_to: str = "",
    opened: bool = False,
) -> OutboundMessage | None:
    """Render one notification to the ticket's requester into the outbox (once per ``key``).

    ``opened``: the ticket was opened in this very transaction, so it has no thread yet and
    no message came in for it before.
    """
    contact = ticket.requester
    if contact is None or not contact.email:
        return None
    address = contact.email.lower()
    automatic = kind in AUTOMATIC_KINDS
    held = _held_back(address, automatic, answerable)
    context = {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": LABELS[Status(ticket.status)],
        "client_name": ticket.client.name,
        "contact_name": contact.name,
        "practice_name": ticket.practice.name if ticket.practice_id else "The service desk",
        "text": text,
        "author": author,
    }
    if kind == NotificationKind.RESOLVED:
        # the insights room takes the rating; the token's format lives with the tickets
        token = rating_links.rating_token(ticket)
        context["rating_url"] = settings.SITE_URL + reverse("insights:rate", args=[token])
    subject_template, body_template = _template(kind, ticket.practice_id)
    subject = composing.one_line(_render(subject_template, context), 300)
    if f"[{ticket.number}]" not in subject:
        subject = f"{subject} [{ticket.number}]"
    sender_name, sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    refs = [] if opened else threads.recent(ticket)
    if answering and answering not in refs:
        refs.append(answering)  # the message being processed, not yet remembered
    message_id = composing.new_message_id(mail_domain())
    raw = composing.build(
        composing.Outgoing(
            from_address=sender,
            from_name=sender_name or "Thirdway",
            to_address=address,
            to_name=contact.name,
            subject=subject,
            body=_render(body_template, context),
            message_id=message_id,
            reply_to=reply_to or ("" if opened else _reply_to(ticket)),
            in_reply_to=refs[-1] if refs else "",
            references=tuple(refs),
            auto_submitted=AUTOMATIC_KINDS.get(kind, ""),
            loop_value=mail_domain(),
        )
    )
    outgoing = OutboundMessage(
        ticket=ticket,
        kind=kind,
        dedupe_key=key[:200],
        to_address=address,
        subject=subject,
        message_id=message_id,
        raw=raw,
        automatic=automatic,
        status=OutboundStatus.SUPPRESSED if held else OutboundStatus.PENDING,
        last_error=held,
    )
    if opened:  # a ticket opened in this transaction has no message yet: no savepoint needed
        outgoing.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                outgoing.save(force_insert=True)
        except IntegrityError:
            return None  # this event already has its message
    threads.remember(message_id, ticket)
    record(None, "mail.queue", outgoing, source=Source.SYSTEM, scope=f"ticket:{ticket.pk}")
    if not held:
        from thirdway.mail.tasks import send_outbound

        transaction.on_commit(lambda pk=outgoing.pk: send_outbound.enqueue(pk))
    return outgoing


def _held_back(address: str, automatic: bool, answerable: bool) -> str:
    """Why this message must not go out, or '' when it may."""
    bouncing = (
        BouncingAddress.objects.filter(address=address).order_by().values_list(Value(BOUNCES))
    )
    if not (automatic and answerable):
        if bouncing.exists():
            return BOUNCING
        if not automatic:
            return ""
        return "Not answered automatically: the message that caused it was automatic mail."
    # One statement: whether the address bounces, and its automatic replies this hour.
    recent = _recent_automatic(address).order_by().values_list(Value(SENT))
    rows = list(bouncing.union(recent, all=True))
    if (BOUNCES,) in rows:
        return BOUNCING
    limit = settings.MAIL_AUTO_REPLIES_PER_HOUR
    if len(rows) >= limit:
        return f"Not sent: {address} already had {limit} automatic replies this hour."
    return ""


# --- sending -------------------------------------------------------------------------------------


def send(outbound_id: int) -> str:
    """Send one message if it is due and nobody else holds it; record the server's answer."""
    outgoing, why_not = OUTBOX.claim(outbound_id)
    if outgoing is None:
        return why_not
    permanent, answer = _smtp(outgoing)
    return _settle(outgoing, permanent, answer)


def _smtp(outgoing: OutboundMessage) -> tuple[bool | None, str]:
    """(None, answer) when sent; (True, answer) for a permanent refusal; (False, ...) to retry."""
    sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    kind = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    try:
        with kind(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT) as smtp:
            if settings.EMAIL_USE_TLS:
                smtp.starttls()
            if settings.EMAIL_HOST_USER:
                smtp.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
            refused = smtp.sendmail(sender, [outgoing.to_address], bytes(outgoing.raw))
            if refused:
                code, text = next(iter(refused.values()))
                return code >= 500, f"{code} {_text(text)}"
            return None, "250 accepted"
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        return code >= 500, f"{code} {_text(text)}"
    except smtplib.SMTPResponseException as error:
        return error.smtp_code >= 500, f"{error.smtp_code} {_text(error.smtp_error)}"
    except (smtplib.SMTPException, OSError) as error:
        return False, f"{type(error).__name__}: {error}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _settle(outgoing: OutboundMessage, permanent: bool | None, answer: str) -> str:
    outgoing.last_error = "" if permanent is None else answer[:2000]
    OUTBOX.settle(outgoing, sent=permanent is None, give_up=bool(permanent))
    record(
        None,
        "mail.send",
        outgoing,
        source=Source.SYSTEM,
        changes={"status": [None, outgoing.status], "answer": [None, answer[:300]]},
    )
    return outgoing.status


def due_messages(now: dt.datetime | None = None):
    return OUTBOX.due(now)
