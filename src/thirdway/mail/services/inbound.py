"""Inbound mail: receipt (raw bytes first), then processing into tickets, articles, bounce
notes, the triage queue or the quarantine.

Receipt and processing are separate transactions.  Receipt commits the raw bytes under a
unique (mailbox, message key) so a message fetched, piped or posted twice is one row; only
then may an IMAP server forget it.  Processing locks the row, does everything in one
transaction and records the outcome, so a crash leaves the row ``received`` and the next run
processes it exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from thirdway import configcache
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.audit.services import gathering as audit_gathering
from thirdway.audit.services import record
from thirdway.clients import services as clients
from thirdway.clients.models import Client, Contact
from thirdway.errors import require_admin
from thirdway.mail import lanes, parsing, spool, threads
from thirdway.mail.models import (
    BouncingAddress,
    InboundMessage,
    InboundSource,
    InboundStatus,
    Mailbox,
    ThreadReference,
)
from thirdway.mail.receipt import head as _head
from thirdway.mail.receipt import receive, receive_many
from thirdway.mail.services.senders import (
    Claimed,
    author_on,
    colleague_on,
    contact_for,
    login_of,
    mail_actor,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Channel, Ticket, number_of, pk_of_number
from thirdway.tickets.services import Upload
from thirdway.tickets.webhooks.events import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    ticket: Ticket | None = None
    article: object | None = None


# --- receipt (``mail/receipt.py``) and processing ----------------------------------------------


def receive_and_process(
    raw: bytes, *, mailbox: Mailbox | None, source: str
) -> tuple[InboundMessage, bool]:
    message, created = receive(raw, mailbox=mailbox, source=source)
    if message.status == InboundStatus.RECEIVED:
        message = process(message.pk, received=message if created else None)
    return message, created


# Messages processed in one transaction by ``process_many`` (each in a savepoint of its own).
GROUP = 10


def process_many(messages: list[InboundMessage]) -> list[InboundMessage]:
    """Process messages this process has just received (``receive_many``), ``GROUP`` to a
    transaction, in processing lanes where it pays (``mail/lanes.py``).

    Each message is processed in a savepoint and one that fails is quarantined as ever; a crash
    rolls back its whole group, which stays ``received`` for the next run to process, once.
    """
    return lanes.run(messages, _process_in_groups, prepare=_give_logins)


def start_processing(messages: list[InboundMessage]) -> lanes.Lanes:
    """``process_many`` started in lanes, returning at once where it can (``mail/lanes.py``);
    ``wait()`` on the answer before processing anything else."""
    return lanes.start(messages, _process_in_groups, prepare=_give_logins)


def _give_logins(contacts: list[Contact]) -> None:
    """Before a batch is split into lanes: the sign-ins its senders' messages would give them,
    given now in one transaction.  Otherwise two lanes with messages from one contact wait on
    each other for that contact's row, or deadlock on two of them."""
    waiting = [contact for contact in contacts if contact.user_id is None]
    if not waiting:
        return
    actor = mail_actor()
    with transaction.atomic():
        for contact in waiting:
            clients.give_login(actor, contact, source=Source.SYSTEM)


def _process_in_groups(messages: list[InboundMessage]) -> list[InboundMessage]:
    done = []
    for start in range(0, len(messages), GROUP):
        group = messages[start : start + GROUP]
        with transaction.atomic(), audit_gathering():
            states = _claim_states([message.pk for message in group])
            done.extend(
                process(message.pk, received=message, state=states.get(message.pk))
                for message in group
            )
    return done


def process_pending(limit: int = 500) -> int:
    """Process every message received but not yet processed (after a crash, or a lost task)."""
    pending = list(
        InboundMessage.objects.filter(status=InboundStatus.RECEIVED)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        process(pk)
    return len(pending)


# Messages of the spool stored in one transaction by ``drain_spool``.
SPOOL_CHUNK = 50


def drain_spool(limit: int = 1000) -> int:
    """Store what the pipe left in the mail spool (``mail/spool.py``), ``SPOOL_CHUNK`` to a
    transaction, delete the files only once stored, then process the new messages; how many
    were new.  A mailbox name no mailbox has any more is read as none (the sender decides).
    One drain at a time: while another holds the spool, this one does nothing (0)."""
    with spool.draining(settings.MAIL_SPOOL_DIR) as mine:
        if not mine:
            return 0
        by_mailbox: dict[str, list] = {}
        for path, name in spool.waiting(settings.MAIL_SPOOL_DIR, limit):
            by_mailbox.setdefault(name, []).append(path)
        stored: list[InboundMessage] = []
        for name, paths in by_mailbox.items():
            mailbox = Mailbox.objects.filter(name=name).first() if name else None
            for start in range(0, len(paths), SPOOL_CHUNK):
                chunk = paths[start : start + SPOOL_CHUNK]
                results = receive_many(
                    [path.read_bytes() for path in chunk],
                    mailbox=mailbox,
                    source=InboundSource.PIPE,
                )
                for path in chunk:  # committed: the database holds them now
                    path.unlink(missing_ok=True)
                stored.extend(message for message, created in results if created)
        process_many(stored)
        spool.forget_unfinished(settings.MAIL_SPOOL_DIR)
    return len(stored)


def record_poll(mailbox: Mailbox, error: str) -> None:
    """When the mailbox was last polled, and what went wrong (shown to practice admins)."""
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_poll_error=error
    )


# --- processing ----------------------------------------------------------------------------------


# What processing writes back to the message's row (never the raw bytes again).
OUTCOME_FIELDS = [
    "status",
    "reason",
    "ticket",
    "article",
    "processed_at",
    "attempts",
    "from_address",
    "subject",
]


STATE_FIELDS = ["status", "reason", "attempts", "ticket_id", "article_id", "processed_at"]


def _claim_states(pks: list[int]) -> dict[int, dict]:
    """The state of these rows, locked (for the rest of the transaction), by id."""
    rows = InboundMessage.objects.select_for_update().filter(pk__in=pks).values("pk", *STATE_FIELDS)
    return {row.pop("pk"): row for row in rows}


def _claim(pk: int, received: InboundMessage | None, state: dict | None) -> InboundMessage:
    """The row, locked.  ``received``, the message as this process just stored it, spares
    reading its raw bytes back: only its state is read under the lock (or was, as ``state``)."""
    if received is None or received.pk != pk:
        return (
            InboundMessage.objects.select_for_update(of=("self",))
            .select_related("mailbox")
            .get(pk=pk)
        )
    if state is None:
        state = _claim_states([pk])[pk]
    for name, value in state.items():
        setattr(received, name, value)
    return received


def process(
    pk: int,
    *,
    received: InboundMessage | None = None,
    state: dict | None = None,
    client: Client | None = None,
) -> InboundMessage:
    """Turn one received message into its outcome, once, whatever happens inside.

    ``state``: the row's state as read under its lock by the caller's transaction.  Inside a
    caller's transaction no savepoint is taken: what fails in here is caught and quarantined,
    and a failure of the database itself rolls back the caller's whole group.
    ``client``: the desk's choice for a sender no client, or several, claim (triage).
    """
    with transaction.atomic(savepoint=False), audit_gathering():
        message = _claim(pk, received, state)
        if message.status != InboundStatus.RECEIVED:
            return message
        message.attempts += 1
        try:
            outcome = _settled(message, client)
        except Exception as error:  # one bad message must never stop the intake
            log.exception("mail: could not process message %s", pk)
            outcome = Outcome(
                InboundStatus.QUARANTINED,
                f"Could not be processed: {type(error).__name__}: {error}"[:2000],
            )
        message.status, message.reason = outcome.status, outcome.reason
        message.ticket, message.article = outcome.ticket, outcome.article
        message.processed_at = timezone.now()
        message.save(update_fields=OUTCOME_FIELDS)
        record(
            None,
            "mail.process",
            message,
            source=Source.SYSTEM,
            scope=f"ticket:{outcome.ticket.pk}" if outcome.ticket else "",
            changes={"status": [InboundStatus.RECEIVED, outcome.status]},
        )
    return message


# Deadlock detected, could not serialise: another transaction won, try again.
LOST_RACE = frozenset({"40P01", "40001"})


def _settled(message: InboundMessage, client: Client | None = None) -> Outcome:
    """``_route`` in a savepoint, once more if it lost a race to another process (a sender's
    contact or sign-in created meanwhile by another lane): by then the winner has committed,
    so the second try finds what it would have created."""
    try:
        return _route_in_savepoint(message, client)
    except (IntegrityError, OperationalError) as error:
        code = getattr(error.__cause__, "sqlstate", None)
        if isinstance(error, OperationalError) and code not in LOST_RACE:
            raise
        log.info("mail: message %s lost a race (%s); processing it again", message.pk, code)
    return _route_in_savepoint(message, client)


def _route_in_savepoint(message: InboundMessage, client: Client | None) -> Outcome:
    """``_route``, its writes gathered and rolled back together should it raise."""
    with transaction.atomic(), audit_gathering(), threads.gathering():
        return _route(message, client)


def _route(message: InboundMessage, client: Client | None = None) -> Outcome:
    raw = bytes(message.raw)
    limit = settings.MAIL_MAX_BYTES
    # Over the limit, only the headers are read: enough to list it in the quarantine.
    parsed = parsing.parse(raw if message.size <= limit else _head(raw))
    message.from_address = parsed.from_address[:320]
    message.subject = parsed.subject
    if message.size > limit:
        return _quarantine(f"{message.size} bytes is over the size limit of {limit} bytes.")
    if parsed.report is not None:
        return _report(parsed)
    if not parsed.from_address:
        return _quarantine("The message names no sender address (From).")
    if _is_ours(parsed.from_address):
        return _quarantine(f"Sent from our own address {parsed.from_address}: a mail loop.")
    origin = Origin(
        message_id=parsed.message_id,
        answerable=not parsed.is_automatic,
        reply_to=message.mailbox.address if message.mailbox else "",
    )
    return _deliver(message, parsed, origin, client)


def _quarantine(reason: str) -> Outcome:
    return Outcome(InboundStatus.QUARANTINED, reason)


def our_addresses() -> frozenset[str]:
    """Every address we send or receive at (from the configuration cache)."""
    return configcache.get(("mail.our_addresses",), _read_our_addresses)


def _read_our_addresses() -> frozenset[str]:
    import email.utils

    ours = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
    ours.add(email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    return frozenset(ours)


def _is_ours(address: str) -> bool:
    return address.lower() in our_addresses()


def _deliver(
    message: InboundMessage,
    parsed: parsing.ParsedMessage,
    origin: Origin,
    client: Client | None = None,
) -> Outcome:
    found = _thread(parsed)
    if found is not None:
        ticket, via = found
        author = author_on(ticket, parsed.from_address) or colleague_on(ticket, parsed)
        if author is None:
            return _quarantine(
                f"The {via} names {ticket.number}, but {parsed.from_address} is neither a "
                f"contact of {ticket.client} nor a watcher of the ticket."
            )
        return _append(author, ticket, parsed, origin)
    contact = contact_for(parsed, message.mailbox, client=client)
    if isinstance(contact, Claimed):
        return Outcome(InboundStatus.UNKNOWN_CLIENT, contact.reason(parsed.from_address))
    if contact is None:
        return Outcome(
            InboundStatus.UNKNOWN_CLIENT,
            f"No client knows {parsed.from_address} or its domain.",
        )
    return _open(contact, parsed, message.mailbox, origin)


# --- threading -----------------------------------------------------------------------------------


def _live(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def _thread(parsed: parsing.ParsedMessage) -> tuple[Ticket, str] | None:
    """The ticket a message continues: subject token first, then In-Reply-To / References."""
    for number in parsed.ticket_tokens:
        pk = pk_of_number(f"TW-{number}")
        ticket = Ticket.objects.select_related("client").filter(pk=pk).first() if pk else None
        if ticket is not None:
            return _live(ticket), "subject"
    ids = list(parsed.in_reply_to) + list(reversed(parsed.references))
    if ids:
        keys = [parsing.message_key(value, b"") for value in ids]
        found = {
            ref.message_key: ref.ticket
            for ref in ThreadReference.objects.filter(message_key__in=keys).select_related(
                "ticket__client"
            )
        }
        for key in keys:
            if key in found:
                return _live(found[key]), "reply"
    return None


# --- what a message becomes ----------------------------------------------------------------------


def _uploads(parsed: parsing.ParsedMessage) -> list[Upload]:
    return [
        Upload(filename=item.filename, content=item.content)
        for item in parsed.attachments
        if item.content
    ]


def _bodies(parsed: parsing.ParsedMessage, uploads: list[Upload]) -> dict:
    if parsed.body_html and parsed.body_text:
        return {"body_html": parsed.body_html}
    text = parsed.body_text.strip()
    if not text and not uploads:
        text = "(This message has no text.)"
    return {"body_text": text}


def _open(
    contact: Contact, parsed: parsing.ParsedMessage, mailbox: Mailbox | None, origin: Origin
) -> Outcome:
    user = login_of(contact)
    uploads = _uploads(parsed)
    ticket = tickets.create_ticket(
        user,
        contact.client,
        subject=parsing.TICKET_TOKEN.sub("", parsed.subject).strip() or "(no subject)",
        practice_id=mailbox.practice_id if mailbox else None,
        channel=Channel.EMAIL,
        uploads=uploads,
        source=Source.SYSTEM,
        origin=origin,
        **_bodies(parsed, uploads),
    )
    threads.remember(parsed.message_id, ticket)
    article = origin.opened or ticket.articles.first()
    return Outcome(InboundStatus.TICKET, ticket=ticket, article=article)


def _append(author: User, ticket: Ticket, parsed: parsing.ParsedMessage, origin: Origin) -> Outcome:
    uploads = _uploads(parsed)
    try:
        article = tickets.reply(
            author,
            ticket,
            channel=Channel.EMAIL,
            uploads=uploads,
            source=Source.SYSTEM,
            origin=origin,
            **_bodies(parsed, uploads),
        )
    except (PermissionDenied, ValidationError) as error:
        text = "; ".join(getattr(error, "messages", [str(error)]))
        return Outcome(
            InboundStatus.QUARANTINED, f"Not added to {ticket.number}: {text}", ticket=ticket
        )
    threads.remember(parsed.message_id, ticket)
    return Outcome(InboundStatus.ARTICLE, ticket=ticket, article=article)


def _report(parsed: parsing.ParsedMessage) -> Outcome:
    """A delivery report: mark failed recipients, and note it on the ticket it is about."""
    report = parsed.report
    if report.report_type == "delivery-status" and report.action in ("failed", ""):
        for address in report.recipients:
            _mark_bouncing(address, report)
    ids = list(report.original_message_ids) + list(parsed.in_reply_to) + list(parsed.references)
    keys = [parsing.message_key(value, b"") for value in ids]
    reference = (
        ThreadReference.objects.filter(message_key__in=keys).select_related("ticket").first()
        if keys
        else None
    )
    summary = (
        f"{report.report_type} report from {parsed.from_address or 'an unknown sender'}: "
        f"{', '.join(report.recipients) or 'recipient not stated'}"
        f" {report.action} {report.status} {report.diagnostic}"
    ).strip()
    if reference is None:
        return _quarantine(f"A {summary[:1500]} (not about any message we sent).")
    ticket = _live(reference.ticket)
    article = tickets.note(
        mail_actor(),
        ticket,
        body_text=f"Delivery report: {summary}\n\n{parsed.body_text[:4000]}",
        source=Source.SYSTEM,
    )
    return Outcome(InboundStatus.BOUNCE, ticket=ticket, article=article)


def _mark_bouncing(address: str, report: parsing.DeliveryReport) -> None:
    now = timezone.now()
    entry, created = BouncingAddress.objects.get_or_create(
        address=address.lower()[:320],
        defaults={
            "last_status": report.status,
            "last_diagnostic": report.diagnostic,
            "last_bounced_at": now,
        },
    )
    if not created:
        entry.bounces += 1
        entry.last_status, entry.last_diagnostic = report.status, report.diagnostic
        entry.last_bounced_at = now
        entry.save()
    record(None, "mail.bouncing", entry, source=Source.SYSTEM)


# --- quarantine and triage -----------------------------------------------------------------------


def reprocess(actor, message: InboundMessage, *, source: str) -> InboundMessage:
    """Run a quarantined (or triaged) message through the pipeline again."""
    require_admin(actor)
    with transaction.atomic():
        locked = InboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status not in (InboundStatus.QUARANTINED, InboundStatus.UNKNOWN_CLIENT):
            raise ValidationError(
                {
                    "message": ValidationError(
                        f"Message {locked.pk} is {locked.get_status_display().lower()}.",
                        params={"allowed": "a quarantined message or one from an unknown client"},
                    )
                }
            )
        before = locked.status
        locked.status, locked.reason = InboundStatus.RECEIVED, ""
        locked.save(update_fields=["status", "reason"])
        record(
            actor,
            "mail.reprocess",
            locked,
            source=source,
            changes={"status": [before, InboundStatus.RECEIVED]},
        )
    return process(message.pk)


def assign_to_client(actor, message: InboundMessage, client: Client, *, source: str):
    """Triage: the sender becomes a contact of ``client`` and the message is processed again."""
    if not (actor.is_active and actor.role in (Role.PRACTICE_ADMIN, Role.DESK)):
        raise PermissionDenied("Only the desk may triage mail.")
    if message.status != InboundStatus.UNKNOWN_CLIENT:
        raise ValidationError(
            {
                "message": ValidationError(
                    "This message is not waiting for a client.",
                    params={"allowed": "a message in the unknown-client queue"},
                )
            }
        )
    parsed = parsing.parse(bytes(message.raw))
    with transaction.atomic():
        if not client.contacts.with_email(parsed.from_address).exists():
            clients.create_contact(
                actor,
                client,
                name=(parsed.from_name or parsed.from_address.partition("@")[0])[:150],
                email=parsed.from_address,
                source=source,
            )
        InboundMessage.objects.filter(pk=message.pk).update(status=InboundStatus.RECEIVED)
        record(actor, "mail.triage", message, source=source, changes={"client": [None, client.pk]})
    # The desk's choice holds even where the address is a contact at other clients too.
    return process(message.pk, client=client)


def ticket_number(ticket_id: int) -> str:
    return number_of(ticket_id)
