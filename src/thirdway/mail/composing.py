"""Building outgoing notifications: headers that thread, mark automatic mail and cannot be
split by a CR or LF smuggled in through a subject or a name (the CVE-2024-6923 class).

Every header value passes through :func:`one_line` before it reaches the ``email`` package,
so no text we did not write ourselves can end a header line, whatever the Python version.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage

from thirdway.mail.parsing import LOOP_HEADER, SMTP_POLICY

CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str, limit: int = 250) -> str:
    """A header value: control characters (CR, LF...) become spaces."""
    return re.sub(r"\s+", " ", CONTROL.sub(" ", text or "")).strip()[:limit]


@dataclass(frozen=True)
class Outgoing:
    from_address: str
    from_name: str
    to_address: str
    to_name: str
    subject: str
    body: str
    message_id: str
    reply_to: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    auto_submitted: str = ""
    loop_value: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # (file name, MIME type, content): a letter's files, e.g. a client report's PDF
    attachments: tuple[tuple[str, str, bytes], ...] = ()


def new_message_id(domain: str) -> str:
    return email.utils.make_msgid(domain=one_line(domain, 200) or "localhost").strip("<>")


def _address(name: str, address: str) -> Address:
    local, _, domain = one_line(address, 320).rpartition("@")
    return Address(display_name=one_line(name, 150), username=local, domain=domain)


def build(outgoing: Outgoing) -> bytes:
    """The message as bytes, ready for SMTP."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _address(outgoing.from_name, outgoing.from_address)
    message["To"] = _address(outgoing.to_name, outgoing.to_address)
    message["Subject"] = one_line(outgoing.subject, 400)
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = f"<{one_line(outgoing.message_id, 300)}>"
    if outgoing.reply_to:
        message["Reply-To"] = _address("", outgoing.reply_to)
    if outgoing.in_reply_to:
        message["In-Reply-To"] = f"<{one_line(outgoing.in_reply_to, 300)}>"
    if outgoing.references:
        message["References"] = " ".join(f"<{one_line(ref, 300)}>" for ref in outgoing.references)
    if outgoing.auto_submitted:
        message["Auto-Submitted"] = one_line(outgoing.auto_submitted, 50)
    message[LOOP_HEADER] = one_line(outgoing.loop_value or "1", 200)
    for name, value in outgoing.extra.items():
        message[one_line(name, 60)] = one_line(value, 400)
    message.set_content(outgoing.body or "")
    for filename, content_type, content in outgoing.attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(
            content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=one_line(filename, 200),
        )
    return message.as_bytes()
