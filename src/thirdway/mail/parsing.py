"""Reading one RFC 822 message into what the desk needs, whatever state it arrives in.

Pure Python on the standard ``email`` package (modern policy) plus nh3 through
``tickets.bodies``: no Django, no database.  :func:`parse` never raises; what it could not make
sense of is listed in ``ParsedMessage.defects``.  Nesting is walked iteratively with limits, so
an endlessly enclosed message costs bounded time and memory.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.headerregistry
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from thirdway.mail.quoting import cut_html_quote, fold_quotes
from thirdway.tickets.bodies import clean_html, clean_line, html_to_text


class _HeaderClasses(email.headerregistry.HeaderRegistry):
    """The standard header registry, but each header's class is made once: the standard one
    makes a new class on every header read or written, a tenth of the time spent parsing."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# The modern policy (``email.policy.default``) with the registry above; SMTP's for sending.
POLICY = email.policy.default.clone(header_factory=_HeaderClasses())
SMTP_POLICY = email.policy.SMTP.clone(header_factory=_HeaderClasses())
MAX_DEPTH = 20
MAX_PARTS = 500
LOOP_HEADER = "X-Thirdway-Loop"
TICKET_TOKEN = re.compile(r"\[\s*TW-(\d{5,12})\s*\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
# Charsets seen in the wild under names Python does not know.
CHARSET_ALIASES = {
    "x-unknown": "cp1252",
    "unknown-8bit": "cp1252",
    "x-user-defined": "cp1252",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# Header bytes sent with no charset at all: these encodings are tried in order (mail/apps.py
# sets them from THIRDWAY_MAIL_HEADER_CHARSETS), then detection.  A single-byte encoding reads
# almost any bytes, so its text is kept only when it reads as text (below MESS_LIMIT): KOI8-R
# read as Windows-1252 is a jumble of accented capitals in the middle of words, and is refused.
HEADER_CHARSETS: tuple[str, ...] = ("utf-8", "cp1252", "koi8-r", "cp1251")
MESS_LIMIT = 0.2


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery report (RFC 3464) or another report says, as far as it could be read."""

    report_type: str
    recipients: tuple[str, ...] = ()
    action: str = ""
    status: str = ""
    diagnostic: str = ""
    original_message_ids: tuple[str, ...] = ()


@dataclass
class ParsedMessage:
    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    auto_submitted: str = ""
    precedence: str = ""
    has_loop_header: bool = False
    list_id: str = ""
    body_text: str = ""
    body_html: str = ""
    full_text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    report: DeliveryReport | None = None
    defects: list[str] = field(default_factory=list)

    @property
    def ticket_tokens(self) -> list[int]:
        """Ticket numbers named in the subject (``[TW-10234]``), in order."""
        return [int(number) for number in TICKET_TOKEN.findall(self.subject)]

    @property
    def is_automatic(self) -> bool:
        """Mail no automatic reply may answer (RFC 3834 and common practice)."""
        local = self.from_address.partition("@")[0].lower()
        return bool(
            (self.auto_submitted and self.auto_submitted.lower() != "no")
            or self.precedence.lower() in ("bulk", "junk", "list")
            or self.has_loop_header
            or self.list_id
            or self.report is not None
            or local in BOUNCE_SENDERS
            or local.startswith(("noreply", "no-reply", "do-not-reply", "donotreply"))
            or not self.from_address
        )


def message_key(message_id: str, raw: bytes) -> str:
    """What makes a message the same message: its Message-ID, or its bytes without one."""
    if message_id:
        return hashlib.sha256(("id:" + message_id).encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()


def normal_message_id(value: str) -> str:
    """``<abc@host>`` → ``abc@host`` (the form we store and compare)."""
    found = MESSAGE_ID.search(value or "")
    text = found.group(1) if found else (value or "").strip()
    return re.sub(r"\s+", "", text)[:990]


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normal_message_id(m) for m in MESSAGE_ID.findall(value or "")))


def parse(raw: bytes) -> ParsedMessage:
    """Everything the desk uses from one message; never raises."""
    parsed = ParsedMessage()
    try:
        message = email.message_from_bytes(raw, policy=POLICY)
    except Exception as error:  # the parser is lenient; this is the last resort
        parsed.defects.append(f"unreadable message: {type(error).__name__}")
        parsed.full_text = raw.decode("utf-8", "replace")
        parsed.body_text = parsed.full_text[:100_000]
        return parsed
    _read_headers(message, parsed)
    try:
        _read_parts(message, parsed)
    except Exception as error:
        parsed.defects.append(f"unreadable body: {type(error).__name__}: {error}"[:300])
    parsed.defects.extend(_defects(message))
    return parsed


# --- headers -------------------------------------------------------------------------------------


def header(message: Message, name: str) -> str:
    """A header's decoded text, or '' when absent; broken encodings degrade, never raise."""
    try:
        value = message.get(name)
        if value is None:
            return ""
        text = str(value)
        if "\ufffd" not in text:
            return _unescaped(text)
        # The parser replaced bytes it could not read: read them again, undeclared 8-bit.
        again = _reread(message, name)
        return again if again and "\ufffd" not in again else text
    except Exception:  # noqa: S110 - the raw form below is the fallback
        pass
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return _decode_words(_unescaped(str(value)))
    return ""


def _decode_words(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return _unescaped(str(value))
    return ""


def _reread(message: Message, name: str) -> str:
    """A header's text read from its raw bytes (undeclared 8-bit ones by ``HEADER_CHARSETS``),
    its encoded words decoded and its folding undone."""
    text = re.sub(r"\r?\n[ \t]", " ", _raw_header(message, name)).strip()
    if not ENCODED_WORD.search(text):
        return text
    if text.isascii():
        return _decode_words(text)
    # Raw 8-bit text and encoded words side by side: each word decoded where it stands.
    return ENCODED_WORD.sub(lambda found: _decode_words(found.group()), text)


def _unescaped(text: str) -> str:
    """Raw 8-bit header bytes (kept as surrogates by the parser) as text."""
    if not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    return decode_undeclared(text.encode("utf-8", "surrogateescape"))


def decode_undeclared(data: bytes) -> str:
    """Bytes of no declared charset: the first of ``HEADER_CHARSETS`` that reads them as text,
    else what charset-normalizer detects, else Windows-1252 (which never fails)."""
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    for name in HEADER_CHARSETS:
        try:
            text = data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        if codecs.lookup(name).name == "utf-8" or _reads_as_text(text, mess_ratio):
            return text
    try:
        best = from_bytes(data).best()
    except Exception:  # detection is a guess; the last resort below always answers
        best = None
    if best is not None and _reads_as_text(str(best), mess_ratio):
        return str(best)
    return data.decode("cp1252", "replace")


def _reads_as_text(text: str, mess_ratio: Callable[[str, float], float]) -> bool:
    """Judged on the words the 8-bit bytes made: the ASCII around them (an address) would
    dilute a jumble below the limit."""
    words = " ".join(word for word in text.split() if not word.isascii())
    return mess_ratio(words, 1.0) < MESS_LIMIT


ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _quoted_words(raw: str) -> str:
    """Encoded words replaced by quoted strings of their (one-line) text, before the address
    list is split: whatever they decode to ("Bcc:", commas, an address) stays a display name."""

    def quote(found: re.Match) -> str:
        text = clean_line(_decode_words(found.group()), 150)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ENCODED_WORD.sub(quote, raw)


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses([_quoted_words(_raw_header(message, name))])
    except Exception:
        pairs = []
    found = []
    for display, address in pairs:
        address = address.strip().strip("<>").lower()
        if "@" in address and len(address) <= 320 and not re.search(r"[\s\x00-\x1f]", address):
            found.append((clean_line(display, 150), address))
    return found


def _read_headers(message: Message, parsed: ParsedMessage) -> None:
    parsed.message_id = normal_message_id(header(message, "Message-ID"))
    parsed.in_reply_to = message_ids(header(message, "In-Reply-To"))
    parsed.references = message_ids(header(message, "References"))
    parsed.subject = clean_line(header(message, "Subject"), 250)
    sender = _addresses(message, "From") or _addresses(message, "Sender")
    if sender:
        parsed.from_name, parsed.from_address = sender[0]
    parsed.to = tuple(address for _, address in _addresses(message, "To"))
    parsed.cc = tuple(address for _, address in _addresses(message, "Cc"))
    parsed.auto_submitted = clean_line(header(message, "Auto-Submitted"), 100).split(";")[0]
    parsed.precedence = clean_line(header(message, "Precedence"), 50)
    parsed.has_loop_header = bool(header(message, LOOP_HEADER))
    parsed.list_id = clean_line(header(message, "List-Id"), 250)


def _defects(message: Message) -> list[str]:
    names = []
    for part, _depth in _walk(message):
        names.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
    return sorted(set(names))[:20]


# --- parts ---------------------------------------------------------------------------------------


def _walk(message: Message):
    """Every part with its depth, breadth-first, within the depth and count limits."""
    queue, seen = [(message, 0)], 0
    while queue and seen < MAX_PARTS:
        part, depth = queue.pop(0)
        seen += 1
        yield part, depth
        if depth >= MAX_DEPTH:
            continue
        try:
            children = part.get_payload() if part.is_multipart() else []
        except Exception:
            children = []
        if isinstance(children, list):
            queue.extend((child, depth + 1) for child in children if isinstance(child, Message))


def decode_text(payload: bytes, charset: str | None) -> str:
    """Bytes in a declared charset, which may be wrong, unknown or missing."""
    name = (charset or "us-ascii").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    for candidate in (name, "utf-8"):
        try:
            codecs.lookup(candidate)
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("cp1252", "replace")


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        name = ""
    if isinstance(name, tuple):  # an RFC 2231 value the package could not collapse
        name = email.utils.collapse_rfc2231_value(name)
    name = str(name)
    if "=?" in name:
        name = _decode_words(name)
    return clean_line(name.replace("\\", "/").rsplit("/", 1)[-1], 255)


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _read_parts(message: Message, parsed: ParsedMessage) -> None:
    plain: list[str] = []
    html: list[str] = []
    report_parts: list[Message] = []
    inside_message: set[int] = set()
    for part, _depth in _walk(message):
        kind = _content_type(part)
        if id(part) in inside_message:
            if part.is_multipart():
                inside_message.update(id(child) for child in _children(part))
            continue
        if kind == "message/rfc822" or kind.startswith("message/"):
            if kind in ("message/delivery-status", "message/feedback-report") or kind.endswith(
                "disposition-notification"
            ):
                report_parts.append(part)
            else:
                _attach_enclosed(part, parsed)
            inside_message.update(id(child) for child in _children(part))
            continue
        if kind == "text/rfc822-headers":
            report_parts.append(part)
            continue
        if part.is_multipart():
            continue
        _take_leaf(part, kind, parsed, plain, html)
    _set_bodies(parsed, plain, html)
    if _content_type(message) == "multipart/report" or _looks_like_bounce(parsed):
        parsed.report = _report(message, parsed, report_parts)


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    return (
        [child for child in payload if isinstance(child, Message)]
        if isinstance(payload, list)
        else []
    )


def _take_leaf(part: Message, kind: str, parsed, plain: list[str], html: list[str]) -> None:
    disposition = _disposition(part)
    filename = _filename(part)
    content_id = normal_message_id(header(part, "Content-ID"))
    is_body_text = kind in ("text/plain", "text/html") and disposition != "attachment"
    if is_body_text and not filename:
        text = decode_text(_payload_bytes(part), _charset(part))
        (plain if kind == "text/plain" else html).append(text)
        return
    content = _payload_bytes(part)
    if not content and not filename:
        return
    parsed.attachments.append(
        ParsedAttachment(
            filename=filename or _default_name(kind, len(parsed.attachments) + 1),
            content_type=kind,
            content=content,
            content_id=content_id,
            inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
        )
    )


def _default_name(kind: str, number: int) -> str:
    extension = {"text/plain": "txt", "text/html": "html", "image/png": "png"}.get(
        kind, kind.rpartition("/")[2][:10] or "bin"
    )
    return f"part-{number}.{extension}"


def _attach_enclosed(part: Message, parsed: ParsedMessage) -> None:
    """A forwarded or enclosed message stays whole, as an ``.eml`` attachment."""
    inner = _children(part)
    content = b""
    if inner:
        try:
            content = inner[0].as_bytes(policy=email.policy.compat32)
        except Exception:
            content = str(inner[0].get_payload())[:1_000_000].encode("utf-8", "replace")
    else:
        content = _payload_bytes(part)
    subject = clean_line(header(inner[0], "Subject"), 80) if inner else ""
    name = re.sub(r"[^\w\- .]+", "", subject).strip() or "message"
    parsed.attachments.append(
        ParsedAttachment(filename=f"{name}.eml", content_type="message/rfc822", content=content)
    )


def _set_bodies(parsed: ParsedMessage, plain: list[str], html: list[str]) -> None:
    if plain:
        full = "\n\n".join(text.strip() for text in plain if text.strip())
    elif html:
        full = html_to_text(clean_html(html[0]))
    else:
        full = ""
    full = full.replace("\r\n", "\n").replace("\x00", "")
    parsed.full_text = full
    if html and not plain:
        parsed.body_html = clean_html(cut_html_quote(html[0]))
        parsed.body_text = fold_quotes(html_to_text(parsed.body_html))
    else:
        parsed.body_text = fold_quotes(full)
    if not parsed.body_text.strip():
        parsed.body_text = full.strip()


# --- delivery reports ----------------------------------------------------------------------------

FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", re.MULTILINE)


def _looks_like_bounce(parsed: ParsedMessage) -> bool:
    local = parsed.from_address.partition("@")[0].lower()
    subject = parsed.subject.lower()
    return local in BOUNCE_SENDERS and any(
        word in subject
        for word in ("undeliver", "delivery", "failure", "returned", "not delivered", "delayed")
    )


def _report(message: Message, parsed: ParsedMessage, parts: list[Message]) -> DeliveryReport:
    try:
        report_type = (message.get_param("report-type") or "delivery-status").lower()
    except Exception:
        report_type = "delivery-status"
    if not isinstance(report_type, str):
        report_type = "delivery-status"
    fields: dict[str, list[str]] = {}
    originals: list[str] = []
    for part in parts:
        kind = _content_type(part)
        text = _part_text(part)
        if kind in ("text/rfc822-headers",) or kind == "message/rfc822":
            originals.extend(_original_ids(text))
            continue
        for name, value in FIELD.findall(text):
            fields.setdefault(name.lower(), []).append(" ".join(value.split()))
    for part in _children_messages(message):
        originals.extend(_original_ids(_part_text(part)))
    if not fields:  # a bounce in plain words: read what we can from the text
        for name, value in FIELD.findall(parsed.full_text):
            fields.setdefault(name.lower(), []).append(" ".join(value.split()))
        originals.extend(_original_ids(parsed.full_text))
    recipients = [
        value.partition(";")[2].strip().strip("<>").lower() or value.strip().lower()
        for value in fields.get("final-recipient", []) + fields.get("original-recipient", [])
    ]
    return DeliveryReport(
        report_type=report_type[:50],
        recipients=tuple(dict.fromkeys(r for r in recipients if "@" in r))[:20],
        action=(fields.get("action") or [""])[0].lower()[:20],
        status=(fields.get("status") or [""])[0][:20],
        diagnostic=(fields.get("diagnostic-code") or [""])[0][:1000],
        original_message_ids=tuple(dict.fromkeys(originals))[:20],
    )


def _children_messages(message: Message) -> list[Message]:
    found = []
    for part, _depth in _walk(message):
        if _content_type(part) == "message/rfc822":
            found.extend(_children(part))
    return found[:5]


def _part_text(part: Message) -> str:
    if part.is_multipart():
        texts = []
        for child in _children(part):
            try:
                texts.append(child.as_string(policy=email.policy.compat32))
            except Exception:
                texts.append(str(child.get_payload())[:100_000])
        return "\n".join(texts)
    return decode_text(_payload_bytes(part), _charset(part))[:200_000]


def _original_ids(text: str) -> list[str]:
    return [
        normal_message_id(value)
        for value in re.findall(r"^Message-ID:[ \t]*(\S+)", text or "", re.IGNORECASE | re.M)
        if normal_message_id(value)
    ]
