"""Documentation pages from Markdown: no raw HTML, no script URLs, heading ids prefixed."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from thirdway.vault.markdown import render
from thirdway.vault.templates_library import STARTERS, starter


class _Tags(HTMLParser):
    """Every element and attribute of a piece of HTML (escaped text is not an element)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "![x](javascript:alert(1))",
        '<a href="https://x" onclick="alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_no_script_gets_through(source):
    reader = _Tags()
    reader.feed(render(source))
    for tag, attributes in reader.found:
        assert tag not in {"script", "iframe"}
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        for name in ("href", "src"):
            assert not (attributes.get(name) or "").startswith(("javascript", "data")), attributes


def test_headings_get_ids_prefixed_against_dom_clobbering():
    html = render("# Forms\n\n## Forms\n\n### Ünïcode & stuff")
    assert '<h1 id="doc-forms">' in html
    assert '<h2 id="doc-forms-2">' in html
    assert '<h3 id="doc-unicode-stuff">' in html


def test_tables_links_and_code_are_kept():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://acme.example) `code`")
    assert "<table>" in html and "<td>1</td>" in html
    assert 'href="https://acme.example"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<code>code</code>" in html


def test_each_starter_renders_with_a_heading():
    assert set(STARTERS) == {"firewall", "wifi", "m365", "application", "backup"}
    for kind in STARTERS:
        title, body = starter(kind)
        assert title and '<h1 id="doc-' in render(body)
    assert starter("page") == ("", "")
