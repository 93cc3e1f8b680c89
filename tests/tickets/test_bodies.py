"""Whatever arrives in a body or a subject is stored harmless."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thirdway.tickets.bodies import body_from, clean_html, clean_line, html_to_text, text_to_html

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<body onload=alert(1)>",
    '<form action="https://evil.example"><input name=x></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<img src="https://tracker.example/pixel.gif">',
]
DANGER = re.compile(
    r"<script|<svg|<iframe|<form|<style|javascript:|data:|\son\w+=|style=", re.IGNORECASE
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_dangerous_html_is_neutralised(payload):
    assert not DANGER.search(clean_html(payload))


def test_external_images_are_dropped_but_inline_ones_kept():
    assert "tracker" not in clean_html('<img src="https://tracker.example/p.gif">')
    assert 'src="cid:logo"' in clean_html('<img src="cid:logo" alt="logo">')


def test_links_keep_their_target_and_get_safe_rel():
    cleaned = clean_html('<a href="https://example.com/x">x</a>')
    assert 'href="https://example.com/x"' in cleaned
    assert "noopener" in cleaned


def test_plain_text_becomes_escaped_paragraphs():
    assert text_to_html("a < b\n\nsecond\nline") == "<p>a &lt; b</p><p>second<br>line</p>"


def test_html_gives_a_readable_text_form():
    assert html_to_text("<p>Hello</p><p>World<br>again &amp; again</p>") == (
        "Hello\nWorld\nagain & again"
    )


def test_a_subject_loses_tags_and_line_breaks():
    assert clean_line("Help <b>now</b>\r\nBcc: victim@example.com") == (
        "Help now Bcc: victim@example.com"
    )


def test_body_from_prefers_html_and_sanitises_it():
    safe, text = body_from(body_html="<p>Hi<script>x()</script></p>", body_text="ignored")
    assert safe == "<p>Hi</p>"
    assert text == "Hi"


@given(st.text(max_size=300))
def test_no_input_survives_as_a_script(raw):
    cleaned = clean_html(raw)
    assert "<script" not in cleaned.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", cleaned, re.IGNORECASE)
    assert "\n" not in clean_line(raw) and "\r" not in clean_line(raw)


ESCAPING_SOURCES = [
    "/tickets/attachments/../../admin/logout/",
    "/tickets/attachments/../../../tickets/1/close",
    "/tickets/attachments/%2e%2e/%2e%2e/admin/",
    "/tickets/attachments/%2E%2E/%2E%2E/admin/",
    "/tickets/attachments/..%2f..%2fadmin/",
    "/tickets/attachments/%252e%252e/%252e%252e/admin/",
    "/tickets/attachments/.%2e/admin/",
    "/tickets/attachments/./../admin/",
    "/tickets/attachments/..\\..\\admin/",
    "/tickets/attachments/.\t./.\n./admin/",
    "/tickets/attachments/&#46;&#46;/&#46;&#46;/admin/",
    "//tracker.example/tickets/attachments/1/",
    "https://tracker.example/tickets/attachments/1/",
    "/tickets/attachments//tracker.example/",
]


@pytest.mark.parametrize("source", ESCAPING_SOURCES)
def test_an_image_source_cannot_leave_the_attachments_with_dot_segments(source):
    cleaned = clean_html(f'<p>x<img src="{source}" alt="a"></p>')

    assert "src=" not in cleaned


def test_an_image_from_our_attachments_is_kept():
    cleaned = clean_html('<img src="/tickets/attachments/12/" alt="screenshot">')

    assert 'src="/tickets/attachments/12/"' in cleaned
