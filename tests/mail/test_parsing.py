"""The parser reads messy mail without ever raising."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thirdway.mail.parsing import fold_quotes, parse

LEGACY = (
    b"From: =?iso-8859-1?q?Andr=E9?= <andre@acme.example>\r\n"
    b"Subject: =?koi8-r?b?8NLJ18XU?= [TW-10042]\r\n"
    b"Message-ID: <legacy@acme.example>\r\n"
    b"In-Reply-To: <a@b> <c@d>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n'
    b"--X\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nCaf\xe9 cr\xe8me\r\n"
    b"--X\r\nContent-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    b"--X\r\nContent-Type: image/png\r\nContent-ID: <logo@acme>\r\n"
    b"Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
    b"--X--\r\n"
)


def test_legacy_charsets_encoded_words_and_rfc2231_names_are_read():
    parsed = parse(LEGACY)
    assert parsed.from_name == "André"
    assert parsed.subject.startswith("Привет")
    assert parsed.ticket_tokens == [10042]
    assert parsed.in_reply_to == ("a@b", "c@d")
    assert "Café crème" in parsed.body_text
    names = {item.filename: item for item in parsed.attachments}
    assert names["résumé.pdf"].content.startswith(b"%PDF")
    assert names["part-2.png"].content_id == "logo@acme" and names["part-2.png"].inline


def test_html_is_sanitised_and_has_a_plain_text_form():
    raw = (
        b"From: a@acme.example\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p onclick='x()'>Hello <script>alert(1)</script><b>there</b></p>"
        b"<img src='https://tracker.example/p.gif'><img src='cid:logo@acme'>"
    )
    parsed = parse(raw)
    assert "script" not in parsed.body_html and "onclick" not in parsed.body_html
    assert "tracker" not in parsed.body_html and "cid:logo@acme" in parsed.body_html
    assert parsed.body_text == "Hello there"


def test_an_enclosed_message_is_kept_as_an_eml_attachment():
    inner = b"From: x@y.example\r\nSubject: Inner one\r\n\r\nInner body\r\n"
    raw = (
        b"From: a@acme.example\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="Z"\r\n\r\n'
        b"--Z\r\nContent-Type: text/plain\r\n\r\nSee below\r\n"
        b"--Z\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--Z--\r\n"
    )
    parsed = parse(raw)
    assert parsed.body_text == "See below"
    assert parsed.attachments[0].filename == "Inner one.eml"
    assert b"Inner body" in parsed.attachments[0].content


def test_automatic_mail_is_recognised():
    base = b"From: a@acme.example\r\nSubject: x\r\n"
    assert parse(base + b"Auto-Submitted: auto-replied\r\n\r\nx").is_automatic
    assert not parse(base + b"Auto-Submitted: no\r\n\r\nx").is_automatic
    assert parse(base + b"Precedence: bulk\r\n\r\nx").is_automatic
    assert parse(base + b"X-Thirdway-Loop: desk.example\r\n\r\nx").is_automatic
    assert not parse(base + b"\r\nx").is_automatic


def test_signatures_and_quotes_are_folded():
    assert fold_quotes("Yes.\n-- \nAlice\nAcme") == "Yes."
    assert fold_quotes("Fine\n\n-----Original Message-----\nFrom: x") == "Fine"
    assert fold_quotes("> quoted only") == "> quoted only"


header_names = st.sampled_from(
    [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "References",
        "In-Reply-To",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Auto-Submitted",
        "X-Weird",
        "MIME-Version",
    ]
)
header_values = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "=?utf-8?q?=0D=0ABcc:_evil@x?=",
            "=?unknown?b?!!!?=",
            'multipart/mixed; boundary="',
            "multipart/report; report-type=delivery-status; boundary=b",
            "message/rfc822",
            "text/plain; charset=utf-99",
            "base64",
            "attachment; filename*=bogus''%ZZ",
            "<<<>>>",
            '"unterminated <a@b',
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=12),
    body=st.binary(max_size=2000),
    boundary_parts=st.lists(st.binary(max_size=200), max_size=4),
)
def test_generated_headers_and_bodies_never_raise(headers, body, boundary_parts):
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "replace")
    parts = b"".join(b"--b\r\n" + part + b"\r\n" for part in boundary_parts)
    parsed = parse(head + b"\r\n" + body + parts)
    assert isinstance(parsed.body_text, str)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000))
def test_arbitrary_bytes_never_raise(raw):
    assert isinstance(parse(raw).full_text, str)


def test_an_encoded_word_in_a_name_never_becomes_an_address():
    raw = (
        b"From: =?utf-8?q?Alice=0D=0ABcc:_victim@evil.example?= <alice@acme.example>\r\n"
        b"To: =?utf-8?q?x@evil.example,?= <help@desk.example>\r\n\r\nx"
    )
    parsed = parse(raw)
    assert parsed.from_address == "alice@acme.example"
    assert parsed.from_name == "Alice Bcc: victim@evil.example"
    assert parsed.to == ("help@desk.example",)
