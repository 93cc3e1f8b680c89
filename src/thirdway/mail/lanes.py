"""Processing lanes: the messages of a poll or a spool drain processed by several processes.

Messages are split by conversation.  A message, the messages it answers (In-Reply-To,
References), the messages answering it and the messages naming the same ticket in their
subject are one conversation; so are all the messages of a sender who is not yet a contact
(the first of them makes the contact the others are written as).  A conversation goes to one
lane, which processes its messages in the order they arrived, so each lane's messages end as
they would one at a time: a reply finds the ticket its conversation opened even when both came
in the same poll.  Lanes are balanced by the number of messages.

Once the receipts are committed, the process closes its database connections (each process
opens its own) and forks one child per lane; it may fetch and store the next messages
meanwhile, and waits for the lanes before it processes anything else, so a conversation is
never processed in two places at once.  Whatever a child left ``received`` (it died) the parent
processes afterwards; the row lock in ``inbound.process`` keeps every message to one
processing.

Lanes are used on PostgreSQL only (SQLite writes one transaction at a time), outside any
transaction, with ``THIRDWAY_MAIL_PROCESSES`` above 1 and at least ``MINIMUM`` messages.  Two
lanes may both reach for a row only one of them may create (a sender's new contact or
sign-in); the one that loses has its message processed again (``inbound.process``).
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import logging
import os
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections
from django.db.models.functions import Lower

from thirdway.children import die_with
from thirdway.clients.models import Contact
from thirdway.mail import parsing
from thirdway.mail.models import InboundMessage, InboundStatus
from thirdway.mail.receipt import head

log = logging.getLogger(__name__)
# Fewer messages than this are processed where they are: a fork costs more than it saves.
MINIMUM = 20
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _links(raw: bytes) -> tuple[str, list[str]]:
    """A message's sender, and what its headers tie it to: the Message-IDs it answers and the
    tickets it names."""
    try:
        headers = _HEADERS.parsebytes(head(raw))
        sender = email.utils.parseaddr(str(headers["From"] or ""))[1].lower()
        answered = [
            key
            for name in ("In-Reply-To", "References")
            for value in headers.get_all(name) or ()
            for key in parsing.message_ids(str(value))
        ]
        named = [f"ticket:{n}" for n in parsing.TICKET_TOKEN.findall(str(headers["Subject"] or ""))]
    except Exception:  # a header that cannot be read ties the message to nothing
        return "", []
    return sender, answered + named


def _known(senders: set[str]) -> dict[str, Contact]:
    """The contact each of these addresses already is, by address: the first one, as a new
    message is written as it (one query)."""
    if not senders:
        return {}
    first: dict[str, Contact] = {}
    for contact in (
        Contact.objects.annotate(address=Lower("email"))
        .filter(address__in=senders, is_active=True)
        .select_related("client")
        .order_by("id")
    ):
        first.setdefault(contact.address, contact)
    return first


def conversations(messages: list[InboundMessage]) -> list[list[InboundMessage]]:
    """The messages grouped by conversation, each group in the order given."""
    return _grouped(messages)[0]


def _grouped(
    messages: list[InboundMessage],
) -> tuple[list[list[InboundMessage]], list[Contact]]:
    """The conversations, and the contacts the senders among them already are."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    own, senders = [], []
    for message in messages:
        key = message.message_id or f"raw:{message.message_key}"
        sender, links = _links(bytes(message.raw))
        for link in links:
            parent[root(link)] = root(key)
        own.append(key)
        senders.append(sender)
    known = _known({sender for sender in senders if sender})
    for key, sender in zip(own, senders, strict=True):
        if sender and sender not in known:
            parent[root(f"from:{sender}")] = root(key)
    groups: dict[str, list[InboundMessage]] = {}
    for message, key in zip(messages, own, strict=True):
        groups.setdefault(root(key), []).append(message)
    return list(groups.values()), list(known.values())


def lanes(messages: list[InboundMessage], count: int) -> list[list[InboundMessage]]:
    """At most ``count`` lanes of whole conversations, largest first to the shortest lane."""
    return _dealt(conversations(messages), count)


def _dealt(groups: list[list[InboundMessage]], count: int) -> list[list[InboundMessage]]:
    split: list[list[InboundMessage]] = [[] for _ in range(count)]
    for group in sorted(groups, key=len, reverse=True):
        min(split, key=len).extend(group)
    return [sorted(lane, key=lambda message: message.pk) for lane in split if lane]


def _worth_it(messages: list[InboundMessage]) -> bool:
    return (
        settings.MAIL_PROCESSES > 1
        and len(messages) >= MINIMUM
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and hasattr(os, "fork")
    )


Process = Callable[[list[InboundMessage]], list[InboundMessage]]


class Lanes:
    """Lanes at work in processes of their own (``start``); ``wait`` ends them."""

    def __init__(self, messages: list[InboundMessage], process: Process, children=(), done=()):
        self.messages, self.process = messages, process
        self.children, self.done = list(children), list(done)

    def wait(self) -> list[InboundMessage]:
        """What became of the messages, once every lane has ended; what a lane left (its
        process died) is processed here."""
        if not self.children:
            return self.done
        for child in self.children:
            os.waitpid(child, 0)
        count = len(self.children)
        self.children = []
        state = {
            row.pk: row
            for row in InboundMessage.objects.filter(pk__in=[m.pk for m in self.messages]).defer(
                "raw"
            )
        }
        left = [m for m in self.messages if state[m.pk].status == InboundStatus.RECEIVED]
        if left:
            log.warning("mail: a processing lane left %d messages; processing them here", len(left))
            self.done = self.process(left)
        unfinished = {message.pk for message in left}
        self.done += [state[m.pk] for m in self.messages if m.pk not in unfinished]
        log.info("mail: processed %d messages in %d lanes", len(self.messages), count)
        return self.done


def start(
    messages: list[InboundMessage],
    process: Process,
    prepare: Callable[[list[Contact]], None] | None = None,
) -> Lanes:
    """``process`` (one lane's messages, in order) started on every lane, each in a process of
    its own, returning at once: this process may fetch and store more meanwhile, and must
    ``wait`` before it processes anything else.  Where lanes do not pay, the messages are
    processed here before it returns.

    ``prepare``, given the contacts the senders already are, runs first when
    there are lanes: what would make two lanes wait on each other is better done before."""
    if not _worth_it(messages):
        return Lanes(messages, process, done=process(messages))
    groups, contacts = _grouped(messages)
    split = _dealt(groups, settings.MAIL_PROCESSES)
    if len(split) < 2:
        return Lanes(messages, process, done=process(messages))
    if prepare is not None:
        prepare(contacts)
    connections.close_all()  # a child must never write on its parent's connection
    return Lanes(messages, process, children=[_fork(lane, process) for lane in split])


def run(
    messages: list[InboundMessage],
    process: Process,
    prepare: Callable[[list[Contact]], None] | None = None,
) -> list[InboundMessage]:
    """``start``, then ``wait``."""
    return start(messages, process, prepare).wait()


def _fork(lane: list[InboundMessage], process: Process) -> int:
    """A process of its own for ``lane`` (its id); the child never returns."""
    parent = os.getpid()
    child = os.fork()
    if child:
        return child
    status = 1
    try:
        die_with(parent)
        process(lane)
        status = 0
    except BaseException:
        log.exception("mail: a processing lane failed; its parent processes what it left")
    finally:
        try:
            connections.close_all()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)
