"""Article bodies: whatever arrives is sanitised with nh3 and kept with a plain-text form."""

from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import unquote, urlsplit

import nh3

ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Only links a person can follow safely; images only from our own attachments (cid: later).
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-4]|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


ATTACHMENTS_PATH = "/tickets/attachments/"
# A browser drops tabs and line breaks inside a URL and reads a backslash as a slash, so a
# source holding any of them could mean another path than the one checked here.
AMBIGUOUS_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")


def local_image(source: str) -> bool:
    """A ``cid:`` part of the message, or a path under our attachments that stays there once
    dot segments (plain or percent-encoded) are resolved; anything else is refused."""
    if source.startswith("cid:"):
        return True
    if AMBIGUOUS_IN_URL.search(source):
        return False
    parts = urlsplit(source)
    if parts.scheme or parts.netloc:
        return False
    path = parts.path
    # Decoded until stable: ``%252e`` is ``%2e`` once and ``.`` twice.
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    if "%" in path or AMBIGUOUS_IN_URL.search(path):
        return False
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return False
    normal = posixpath.normpath(path)
    return normal.startswith(ATTACHMENTS_PATH) and normal.rstrip("/") == path.rstrip("/")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Images only from the message itself or our attachments: no tracking pixels."""
    if tag == "img" and attribute == "src" and not local_image(value):
        return None
    return value


def clean_html(raw: str) -> str:
    """Safe HTML: no scripts, event handlers, styles, SVG, forms or javascript: URLs."""
    return nh3.clean(
        raw or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_filter_attribute,
    )


def html_to_text(safe_html: str) -> str:
    """A readable plain-text form (for search, e-mail and previews)."""
    with_breaks = BLOCK_END.sub("\n", safe_html)
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    """Plain text as paragraphs, escaped."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    return "".join(
        "<p>" + html.escape(part).replace("\n", "<br>") + "</p>" for part in paragraphs if part
    )


def body_from(*, body_html: str | None = None, body_text: str | None = None) -> tuple[str, str]:
    """Sanitised HTML and plain text from either form."""
    if body_html:
        safe = clean_html(body_html)
        return safe, html_to_text(safe)
    text = (body_text or "").strip()
    return text_to_html(text), text


TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")


def clean_line(text: str, limit: int = 250) -> str:
    """A one-line field such as a subject: tags removed, control characters and newlines gone.

    Entities are decoded and tags stripped until nothing changes, so an encoded tag
    (``&lt;script&gt;``) cannot come back as a real one; what still looks like a tag after a
    few rounds loses its bracket.
    """
    plain = text or ""
    for _ in range(3):
        stripped = html.unescape(nh3.clean(plain, tags=set()))
        if stripped == plain:
            break
        plain = stripped
    plain = TAG_LIKE.sub("‹", plain)
    plain = re.sub(r"[\x00-\x1f\x7f]+", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()[:limit]
