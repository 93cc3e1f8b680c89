"""What a contact does in the portal: open a ticket, reply, close; and what they never see."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Article, Attachment, Ticket

from .conftest import PNG, active_content, without_csrf

NEW = "/portal/new/"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def reply_url(ticket: Ticket) -> str:
    return f"/portal/tickets/{ticket.pk}/reply/"


def close_url(ticket: Ticket) -> str:
    return f"/portal/tickets/{ticket.pk}/close/"


# --- opening a ticket --------------------------------------------------------------------------


def test_a_contact_opens_a_ticket_with_attachments_stored_and_their_type_sniffed(
    cast, web_as, settings
):
    browser = web_as(cast.client_user)
    response = browser.post(
        NEW,
        {
            "subject": "Screen flickers",
            "type": "incident",
            "description": "Since this morning.\n\nIt gets worse when warm.",
            "asset": cast.acme_laptop.pk,
            # A PNG named .txt, and a page of HTML: the type comes from the bytes, and active
            # content is only ever offered as a download.
            "attachments": [
                upload("photo.txt", PNG, "text/plain"),
                upload("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
            ],
        },
    )
    ticket = Ticket.objects.get(subject="Screen flickers")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{ticket.pk}/"
    assert ticket.client == cast.acme
    assert ticket.requester == cast.acme_user_contact
    assert ticket.asset == cast.acme_laptop
    assert ticket.channel == "portal"
    assert ticket.status == "new"
    assert cast.client_user in ticket.watchers.all()
    first = ticket.articles.get()
    assert first.kind == "reply"
    assert first.body_text == "Since this morning.\n\nIt gets worse when warm."
    files = {
        attachment.filename: attachment for attachment in Attachment.objects.filter(ticket=ticket)
    }
    assert files["photo.txt"].content_type == "image/png"
    assert files["page.html"].content_type == "application/octet-stream"
    for attachment in files.values():
        assert default_storage.exists(attachment.file.name)
        assert attachment.article == first
    assert default_storage.open(files["photo.txt"].file.name).read() == PNG
    assert len(stored_files(settings)) == 2
    assert AuditRecord.objects.filter(
        actor=cast.client_user, action="ticket.create", source="web", object_id=str(ticket.pk)
    ).exists()

    page = browser.get(response["Location"]).content.decode()
    assert f"{ticket.number} is open" in page
    assert "Screen flickers" in page
    assert "BOB-LAPTOP" in page
    assert "photo.txt</a>" in page and "page.html</a>" in page


def test_a_ticket_needs_a_subject_and_a_description(cast, web_as):
    response = web_as(cast.client_user).post(NEW, {"subject": " ", "type": "incident"})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("This field is required.") == 2
    assert not Ticket.objects.exists()


def test_an_over_size_attachment_is_refused_with_a_clear_error_and_nothing_is_stored(
    cast, web_as, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = web_as(cast.client_user).post(
        NEW,
        {
            "subject": "Big file",
            "type": "incident",
            "description": "See attached.",
            "attachments": [upload("small.png", PNG), upload("huge.bin", b"x" * 2048)],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "huge.bin is 2.0\xa0KB; the limit is 1.0\xa0KB per file. Nothing was sent." in html
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_another_client_s_asset_or_one_the_user_does_not_use_is_refused(cast, web_as):
    for who, asset in (
        (cast.client_user, cast.globex_laptop),
        (cast.client_user, cast.acme_server),  # Acme's, but not Bob's
        (cast.other_client_admin, cast.acme_laptop),
    ):
        response = web_as(who).post(
            NEW,
            {"subject": "Help", "type": "incident", "description": "x", "asset": asset.pk},
        )
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_client_admin_may_name_any_asset_of_the_organisation(cast, web_as):
    response = web_as(cast.client_admin).post(
        NEW,
        {
            "subject": "Server fan noise",
            "type": "service_request",
            "description": "Loud.",
            "asset": cast.acme_server.pk,
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.asset, ticket.type, ticket.requester) == (
        cast.acme_server,
        "service_request",
        cast.acme_admin_contact,
    )


# --- replying and closing ----------------------------------------------------------------------


def test_a_reply_with_a_file_lands_on_the_timeline(cast, desk, web_as):
    browser = web_as(cast.client_user)
    response = browser.post(
        reply_url(desk.bob_laptop),
        {"body": "Here is a photo.", "attachments": [upload("again.png", PNG)]},
    )
    article = Article.objects.filter(ticket=desk.bob_laptop).latest("id")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{desk.bob_laptop.pk}/#a-{article.pk}"
    assert article.author == cast.client_user
    assert article.channel == "portal"
    assert article.attachments.get().content_type == "image/png"
    html = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    assert "Your reply was sent." in html
    assert f'id="a-{article.pk}"' in html
    assert "<p>Here is a photo.</p>" in html
    assert "again.png</a>" in html


def test_an_empty_reply_is_refused(cast, desk, web_as):
    response = web_as(cast.client_user).post(reply_url(desk.bob_laptop), {"body": "  "})
    assert response.status_code == 400
    assert "Write a reply or attach a file." in response.content.decode()
    assert desk.bob_laptop.articles.count() == 1


def test_an_over_size_reply_attachment_stores_nothing(cast, desk, web_as, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    before = stored_files(settings)
    response = web_as(cast.client_user).post(
        reply_url(desk.bob_laptop), {"body": "big", "attachments": [upload("big.bin", b"x" * 1025)]}
    )
    assert response.status_code == 400
    assert "the limit is 1.0\xa0KB per file" in response.content.decode()
    assert desk.bob_laptop.articles.count() == 1
    assert stored_files(settings) == before


def test_a_reply_reopens_a_resolved_ticket(cast, desk, web_as):
    tickets.change_status(cast.desk, desk.bob_laptop, "resolved", source=Source.WEB)
    browser = web_as(cast.client_user)
    before = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    assert "Replying opens the ticket again." in before
    browser.post(reply_url(desk.bob_laptop), {"body": "It is back."})
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "in_progress"
    assert desk.bob_laptop.resolved_at is None
    html = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    assert html.index("Status: Resolved") < html.index("It is back.")
    assert html.index("It is back.") < html.index("Status: In progress")


def test_a_contact_closes_their_ticket_and_may_reopen_it_by_replying(cast, desk, web_as):
    browser = web_as(cast.client_user)
    page = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    assert f'action="{close_url(desk.bob_laptop)}"' in page
    response = browser.post(close_url(desk.bob_laptop))
    assert response["Location"] == f"/portal/tickets/{desk.bob_laptop.pk}/"
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "closed"
    assert desk.bob_laptop.closed_at is not None
    html = browser.get(response["Location"]).content.decode()
    assert f"{desk.bob_laptop.number} is closed" in html
    assert '<span class="status status-closed" id="status">Closed</span>' in html
    assert f'action="{close_url(desk.bob_laptop)}"' not in html
    assert AuditRecord.objects.filter(actor=cast.client_user, action="ticket.status").exists()
    browser.post(reply_url(desk.bob_laptop), {"body": "Sorry, not fixed."})
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "in_progress"


def test_a_watcher_may_close_a_ticket_of_their_organisation(cast, desk, web_as):
    ticket = desk.acme_backup  # opened by the desk for Alice; Bob watches it
    browser = web_as(cast.client_user)
    response = browser.post(close_url(ticket))
    assert response["Location"] == f"/portal/tickets/{ticket.pk}/"
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    event = ticket.articles.get(kind="event")
    assert (event.event, event.author, event.body_text, event.data) == (
        "status",
        cast.client_user,
        "Status: New → Closed.",
        {"from": "new", "to": "closed"},
    )
    record = AuditRecord.objects.for_object(ticket).get(action="ticket.status")
    assert (record.actor, record.source, record.changes) == (
        cast.client_user,
        "web",
        {"status": ["new", "closed"]},
    )
    timeline = browser.get(response["Location"]).content.decode()
    assert f'<li class="event muted" id="e-{event.pk}">Status: Closed <span>' in timeline


def test_a_ticket_closed_long_ago_takes_no_reply(cast, desk, web_as, settings):
    tickets.change_status(cast.desk, desk.bob_laptop, "closed", source=Source.WEB)
    Ticket.objects.filter(pk=desk.bob_laptop.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=settings.TICKET_REOPEN_DAYS + 1)
    )
    browser = web_as(cast.client_user)
    html = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    assert "was closed more than 14 days ago" in html
    assert f'action="{reply_url(desk.bob_laptop)}"' not in html
    response = browser.post(reply_url(desk.bob_laptop), {"body": "Still broken"})
    assert response.status_code == 400
    assert "was closed more than 14 days ago" in response.content.decode()
    assert desk.bob_laptop.articles.filter(body_text="Still broken").count() == 0


def test_closing_twice_says_why_it_cannot(cast, desk, web_as):
    browser = web_as(cast.client_user)
    browser.post(close_url(desk.bob_laptop))
    response = browser.post(close_url(desk.bob_laptop), follow=True)
    assert "The ticket could not be closed" in response.content.decode()


def test_the_network_cannot_use_the_portal_forms(cast, desk, web_as):
    for who in (cast.admin, cast.partner, cast.desk):
        browser = web_as(who)
        assert browser.post(NEW, {"subject": "x", "description": "y"}).status_code == 404
        assert browser.post(reply_url(desk.bob_laptop), {"body": "hi"}).status_code == 404
        assert browser.post(close_url(desk.bob_laptop)).status_code == 404
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "new"
    assert Ticket.objects.count() == 4


# --- CSRF --------------------------------------------------------------------------------------


def test_every_form_needs_the_csrf_token(cast, desk):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(cast.client_user)
    data = {"subject": "Forged", "type": "incident", "description": "x"}
    assert browser.post(NEW, data).status_code == 403
    assert browser.post(reply_url(desk.bob_laptop), {"body": "forged"}).status_code == 403
    assert browser.post(close_url(desk.bob_laptop)).status_code == 403
    assert not Ticket.objects.filter(subject="Forged").exists()
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "new"
    assert desk.bob_laptop.articles.count() == 1
    # With the token from the page, the same reply goes through.
    page = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    sent = browser.post(reply_url(desk.bob_laptop), {"body": "real", "csrfmiddlewaretoken": token})
    assert sent.status_code == 302


# --- what stays inside the network -------------------------------------------------------------


def test_notes_their_files_and_internal_event_text_are_never_shown(cast, desk, web_as):
    ticket = desk.bob_laptop
    tickets.note(
        cast.partner,
        ticket,
        body_text="SECRET-NOTE: the client broke it",
        uploads=[tickets.Upload("internal-diagnosis.txt", b"internal")],
        source=Source.WEB,
    )
    note_file = Attachment.objects.get(filename="internal-diagnosis.txt")
    tickets.assign(
        cast.desk, ticket, cast.partner_record, reason="REASON-ASSIGN cheapest", source=Source.WEB
    )
    tickets.change_status(
        cast.partner, ticket, "waiting_client", reason="REASON-STATUS stalling", source=Source.WEB
    )
    tickets.change_priority(
        cast.partner, ticket, priority=1, reason="REASON-PRIORITY VIP", source=Source.WEB
    )
    tickets.reply(cast.partner, ticket, body_text="Please restart it.", source=Source.WEB)
    for who in (cast.client_user, cast.client_admin):
        browser = web_as(who)
        # (CSRF tokens blanked: random letters and digits could spell anything.)
        html = without_csrf(browser.get(f"/portal/tickets/{ticket.pk}/").content.decode())
        assert "Please restart it." in html
        assert "Now handled by Paula Partner" in html
        assert "Status: Waiting on client" in html
        for secret in ("SECRET-NOTE", "internal-diagnosis", "REASON-", "Priority", "→ P1"):
            assert secret not in html, secret
        assert browser.get(f"/portal/attachments/{note_file.pk}/").status_code == 404
        found = browser.get("/portal/", {"q": "SECRET-NOTE"}).content.decode()
        assert ticket.subject not in found


def test_the_event_of_a_ticket_back_in_the_queue_is_worded_plainly(cast, desk, web_as):
    tickets.assign(cast.desk, desk.bob_laptop, cast.partner_record, source=Source.WEB)
    tickets.assign(cast.desk, desk.bob_laptop, None, reason="REASON-X", source=Source.WEB)
    html = web_as(cast.client_user).get(f"/portal/tickets/{desk.bob_laptop.pk}/").content
    assert b"Back with the desk, to be picked up" in html
    assert b"REASON-X" not in html


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click me</a>',
    '<svg onload="alert(1)"><circle r="5"/></svg>',
    '"><script>alert(2)</script>',
    "&lt;script&gt;alert(3)&lt;/script&gt;",
    '<iframe src="javascript:alert(4)"></iframe>',
    '<a href="JaVaScRiPt:alert(5)">x</a><style>body{display:none}</style>',
]


@pytest.mark.parametrize("payload", XSS)
def test_script_in_subject_and_body_is_stored_harmless_and_rendered_escaped(cast, web_as, payload):
    browser = web_as(cast.client_admin)
    response = browser.post(
        NEW,
        {"subject": f"Help {payload} now", "type": "incident", "description": f"Look: {payload}"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    first = ticket.articles.get()
    # Stored: the subject is one line of plain text (tags dropped; text that only looks like a
    # tag stays text), and the body's HTML holds no live markup.
    if "&lt;" not in payload:
        assert "<" not in ticket.subject
    assert active_content(first.body_html) == []
    assert "<svg" not in first.body_html and "<img" not in first.body_html
    # A partner answers with the same payload as HTML: sanitised on the way in.
    tickets.reply(cast.partner, ticket, body_html=f"<p>Re: {payload}</p>", source=Source.WEB)
    for url in (f"/portal/tickets/{ticket.pk}/", "/portal/", "/portal/?q=help"):
        html = browser.get(url).content.decode()
        assert active_content(html) == [], url
    # Rendered: what the contact typed shows as the text they typed.
    detail = browser.get(f"/portal/tickets/{ticket.pk}/").content.decode()
    shown = detail.replace("&#x27;", "'").replace("&quot;", '"')
    assert "Look: " + html_module.escape(payload, quote=False) in shown
