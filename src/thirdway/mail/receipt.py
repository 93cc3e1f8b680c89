"""Receipt: the raw bytes of a message stored and committed before anything reads them.

The key is the SHA-256 of the Message-ID (of the bytes when there is none), unique per
mailbox, so the same message fetched, piped or posted twice is one row.  This module imports
no more than receipt needs, so a mail server's pipe stores the message before it loads the
rest of the pipeline.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib

from django.db import IntegrityError, transaction

from thirdway.audit.models import Source
from thirdway.audit.services import gathering as audit_gathering
from thirdway.audit.services import record
from thirdway.mail import parsing
from thirdway.mail.models import InboundMessage, Mailbox


def head(raw: bytes) -> bytes:
    """The header block (at most 256 kB), enough to list a message too large to read."""
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][: 256 * 1024] + b"\r\n\r\n"


def header_message_id(raw: bytes) -> str:
    """The Message-ID as the header block gives it ('' when there is none or it cannot be read)."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head(raw))
        return parsing.normal_message_id(str(headers.get("Message-ID", "") or ""))
    except Exception:
        return ""


def _unsaved(raw: bytes, mailbox: Mailbox | None, source: str) -> InboundMessage:
    message_id = header_message_id(raw)
    return InboundMessage(
        mailbox=mailbox,
        mailbox_name=mailbox.name if mailbox else "",
        source=source,
        message_key=parsing.message_key(message_id, raw),
        message_id=message_id,
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _record_receipt(message: InboundMessage) -> None:
    record(
        None,
        "mail.receive",
        message,
        source=Source.SYSTEM,
        scope=f"mailbox:{message.mailbox_name}",
    )


def receive(raw: bytes, *, mailbox: Mailbox | None, source: str) -> tuple[InboundMessage, bool]:
    """Store the raw message (committed before returning); False when it was already here."""
    message = _unsaved(raw, mailbox, source)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            _record_receipt(message)
        return message, True
    except IntegrityError:
        return InboundMessage.objects.get(
            mailbox_name=message.mailbox_name, message_key=message.message_key
        ), False


def receive_many(
    raws: list[bytes], *, mailbox: Mailbox | None, source: str
) -> list[tuple[InboundMessage, bool]]:
    """Store several messages in one transaction (committed before returning), in their order;
    False for each one already here (or earlier in ``raws``)."""
    messages = [_unsaved(raw, mailbox, source) for raw in raws]
    name = mailbox.name if mailbox else ""
    try:
        with transaction.atomic():
            known = {
                message.message_key: message
                for message in InboundMessage.objects.filter(
                    mailbox_name=name, message_key__in={m.message_key for m in messages}
                ).defer("raw")
            }
            fresh: dict[str, InboundMessage] = {}
            for message in messages:
                if message.message_key not in known:
                    fresh.setdefault(message.message_key, message)
            InboundMessage.objects.bulk_create(list(fresh.values()))
            with audit_gathering():
                for message in fresh.values():
                    _record_receipt(message)
    except IntegrityError:  # stored meanwhile by another intake: one at a time, as it comes
        return [receive(raw, mailbox=mailbox, source=source) for raw in raws]
    return [
        (message, True)
        if fresh.get(message.message_key) is message
        else (known.get(message.message_key) or fresh[message.message_key], False)
        for message in messages
    ]
