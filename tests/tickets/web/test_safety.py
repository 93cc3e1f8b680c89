"""Hostile text in subjects and bodies renders inert on every desk page, and every write needs
its CSRF token."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django.utils.html import escape

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Ticket

from .support import htmx

SUBJECTS = [
    "<script>alert(1)</script>Printer",
    "&lt;script&gt;alert(2)&lt;/script&gt; escaped",
    '"><img src=x onerror=alert(3)>',
    "<svg onload=alert(4)>Fax",
]
BODY_HTML = (
    "<p>Hello</p><script>alert(5)</script><img src=x onerror=alert(6)>"
    '<a href="javascript:alert(7)">click</a><iframe src="https://evil.example"></iframe>'
)


def _inert(html: str) -> None:
    """No element that runs script: escaped text may spell it out, markup may not."""
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html, re.IGNORECASE)
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.IGNORECASE)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.IGNORECASE)
    assert not re.search(r"<(iframe|svg|object|embed)\b", html, re.IGNORECASE)


@pytest.fixture
def hostile(cast):
    tickets = [
        services.create_ticket(
            cast.admin,
            cast.acme,
            subject=subject,
            body_html=BODY_HTML,
            tags=["<b>bold</b>", "x\"onmouseover='alert(8)'"],
            source=Source.CLI,
        )
        for subject in SUBJECTS
    ]
    services.note(cast.admin, tickets[0], body_html=BODY_HTML, source=Source.CLI)
    services.reply(cast.admin, tickets[0], body_text="<script>alert(9)</script>", source=Source.CLI)
    return tickets


def test_hostile_subjects_and_bodies_are_inert_on_the_queue(cast, hostile, web_as):
    client = web_as(cast.admin)
    html = client.get("/tickets/", {"queue": "all"}).content.decode()
    _inert(html)
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in hostile]):
        assert escape(ticket.subject) in html  # whatever the service kept, shown as text
    _inert(htmx(client, "get", "/tickets/", {"queue": "all"}).content.decode())


def test_hostile_subjects_and_bodies_are_inert_on_the_ticket_page(cast, hostile, web_as):
    client = web_as(cast.partner)
    for ticket in hostile:
        html = client.get(f"/tickets/{ticket.number}/").content.decode()
        _inert(html)
    html = client.get(f"/tickets/{hostile[0].number}/").content.decode()
    assert "&lt;script&gt;alert(9)&lt;/script&gt;" in html
    assert "<p>Hello</p>" in html


def test_hostile_text_is_inert_in_search_results_and_the_echoed_query(cast, hostile, web_as):
    client = web_as(cast.desk)
    html = client.get("/tickets/search", {"q": "escaped"}).content.decode()
    _inert(html)
    assert "<mark>" in html
    _inert(client.get("/tickets/search", {"q": "<script>alert(10)</script>"}).content.decode())


def test_a_reply_typed_with_markup_is_shown_as_text(cast, hostile, web_as):
    client = web_as(cast.admin)
    ticket = hostile[1]
    client.post(f"/tickets/{ticket.number}/reply/", {"body": "<img src=x onerror=alert(11)>"})
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    _inert(html)
    assert "&lt;img src=x onerror=alert(11)&gt;" in html


# --- CSRF --------------------------------------------------------------------------------------


@pytest.fixture
def strict(cast):
    """A browser that gets no CSRF exemption: every POST must carry the token."""
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(cast.admin)
    return client


def _token(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_every_desk_write_is_refused_without_a_csrf_token(cast, desk, strict):
    number = desk.t1.number
    writes = [
        (f"/tickets/{number}/reply/", {"body": "Hi"}),
        (f"/tickets/{number}/assign/", {"partner": cast.partner_record.pk}),
        (f"/tickets/{number}/status/", {"status": "in_progress"}),
        (f"/tickets/{number}/priority/", {"impact": 1, "urgency": 1}),
        (f"/tickets/{number}/merge/", {"target": desk.t6.number}),
        (f"/tickets/{number}/link/", {"target": desk.t6.number, "kind": "related"}),
        (f"/tickets/{number}/split/", {"articles": [1]}),
        ("/tickets/bulk/", {"ticket": [desk.t1.pk], "status": "in_progress"}),
        ("/tickets/views/", {"name": "x", "query": ""}),
        ("/tickets/new/", {"client": cast.acme.pk, "subject": "x", "body": "y"}),
    ]
    before = desk.fresh("t1")
    for url, data in writes:
        assert strict.post(url, data).status_code == 403, url
        assert strict.post(url, data, headers={"HX-Request": "true"}).status_code == 403, url
    after = desk.fresh("t1")
    assert (after.status, after.assignee, after.priority) == (
        before.status,
        before.assignee,
        before.priority,
    )
    assert Ticket.objects.count() == 6


def test_a_write_with_the_pages_token_goes_through_as_a_form_or_by_htmx(cast, desk, strict):
    url = f"/tickets/{desk.t1.number}/"
    token = _token(strict, url)
    response = strict.post(f"{url}status/", {"status": "in_progress", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert desk.fresh("t1").status == "in_progress"
    # htmx sends the token in the header that the page's <body hx-headers> declares.
    response = strict.post(
        f"{url}priority/",
        {"impact": 1, "urgency": 1},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert desk.fresh("t1").priority == 1
