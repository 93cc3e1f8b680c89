"""Quoted history and signatures: what is folded away so a reply shows only its new part."""

from __future__ import annotations

import re

QUOTE_HEADERS = re.compile(
    r"^(On .{1,200} wrote:|Le .{1,200} a écrit ?:|Am .{1,200} schrieb .{0,100}:"
    r"|-{2,} ?Original Message ?-{2,}|-{2,} ?Forwarded message ?-{2,}"
    r"|_{10,}|From: .+ Sent: .+|From: [^\n]+)$",
    re.IGNORECASE,
)
HTML_QUOTE_MARKERS = re.compile(
    r'<div[^>]+class="?(gmail_quote|moz-cite-prefix)|<blockquote[^>]+type="?cite'
    r'|<div[^>]+id="?(divRplyFwdMsg|appendonsend)"?|-----Original Message-----',
    re.IGNORECASE,
)


def fold_quotes(text: str) -> str:
    """The new part of a reply: quoted history and the signature are folded away."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if line.rstrip("\r") == "-- " or stripped in ("--", "—"):
            break
        if QUOTE_HEADERS.match(stripped) and (kept or index > 0):
            if stripped.lower().startswith("from: ") and not _looks_like_header_block(
                lines[index : index + 5]
            ):
                kept.append(line)
                continue
            break
        if stripped.startswith(">"):
            if all(not later.strip() or later.strip().startswith(">") for later in lines[index:]):
                break
            continue
        kept.append(line)
    folded = "\n".join(kept).strip()
    return folded or (text or "").strip()


def _looks_like_header_block(lines: list[str]) -> bool:
    names = ("sent:", "to:", "date:", "subject:", "cc:", "envoyé :", "à :", "objet :")
    return sum(1 for line in lines[1:] if line.strip().lower().startswith(names)) >= 2


def cut_html_quote(raw_html: str) -> str:
    found = HTML_QUOTE_MARKERS.search(raw_html or "")
    return raw_html[: found.start()] if found and found.start() > 0 else (raw_html or "")
