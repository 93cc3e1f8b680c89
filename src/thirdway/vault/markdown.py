"""Documentation pages from Markdown to safe HTML.

markdown-it-py's ``js-default`` preset refuses raw HTML (its ``default`` lets it through);
nh3 then keeps only the tags and attributes listed here.  Headings get ids for links within
a page, each prefixed with ``doc-`` so no id can shadow a name the page's scripts or forms use
(DOM clobbering).  Pure: imports no Django and nothing of ours.
"""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

ID_PREFIX = "doc-"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = HEADINGS | {
    "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {
    **{heading: {"id"} for heading in HEADINGS},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
_parser = MarkdownIt("js-default")


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60] or "section"


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id" and not value.startswith(ID_PREFIX):
        return None
    return value


def render(source: str) -> str:
    """Safe HTML of a Markdown text."""
    tokens = _parser.parse(source)
    used: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            slug = _slug(tokens[index + 1].content)
            used[slug] = used.get(slug, 0) + 1
            suffix = f"-{used[slug]}" if used[slug] > 1 else ""
            token.attrSet("id", f"{ID_PREFIX}{slug}{suffix}")
    html = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_keep_attribute,
    )
