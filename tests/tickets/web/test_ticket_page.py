"""The ticket page: who may open it, what its header and timeline show, canned replies, and
the reply box with its internal-note toggle, time spent and attachments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from thirdway.audit.models import Source
from thirdway.tickets import lifecycle, services
from thirdway.tickets.models import Article, Attachment, CannedReply, Ticket

from .support import NETWORK, NOT_NETWORK, element, web_records

ALL = {"t1", "t2", "t3", "t4", "t5", "t6"}
VISIBLE = {
    "admin": ALL,
    "desk": ALL,
    "partner": {"t1", "t3", "t4", "t5", "t6"},
    "other_partner": {"t2", "t4"},
    "associate": {"t3"},
}


@pytest.mark.parametrize("role", NETWORK)
@pytest.mark.parametrize("name", sorted(ALL))
def test_the_network_opens_exactly_the_tickets_it_may_see(cast, desk, web_as, role, name):
    ticket = getattr(desk, name)
    response = web_as(getattr(cast, role)).get(f"/tickets/{ticket.number}/")
    if name in VISIBLE[role]:
        assert response.status_code == 200
        assert ticket.subject in response.content.decode()
    else:
        assert response.status_code == 404
        assert ticket.subject.encode() not in response.content


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_client_contacts_and_outsiders_get_404_even_on_their_own_tickets(cast, desk, web_as, role):
    client = web_as(getattr(cast, role))
    for ticket in (desk.t1, desk.t3, desk.t5):
        response = client.get(f"/tickets/{ticket.number}/")
        assert response.status_code == 404
        assert ticket.subject.encode() not in response.content


def test_a_ticket_opens_by_number_in_any_case_or_by_id_and_unknown_ones_are_404(cast, desk, web_as):
    admin = web_as(cast.admin)
    for ref in (desk.t2.number, desk.t2.number.lower(), str(desk.t2.pk)):
        assert admin.get(f"/tickets/{ref}/").status_code == 200
    for ref in ("TW-99999", "TW-5", "999999"):
        assert admin.get(f"/tickets/{ref}/").status_code == 404


def test_the_header_shows_who_what_and_where_the_ticket_stands(cast, desk, web_as):
    ticket = services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Scanner offline",
        body_text="It blinks.",
        requester_id=cast.acme_user_contact.pk,
        practice_id=cast.security.pk,
        impact=1,
        urgency=1,
        tags=["Scanner", "urgent"],
        source=Source.CLI,
    )
    services.assign(cast.admin, ticket, cast.partner_record, source=Source.CLI)
    head = element(
        web_as(cast.partner).get(f"/tickets/{ticket.number}/").content.decode(), "ticket-head"
    )
    for text in (
        ticket.number,
        "Scanner offline",
        "Acme Bakery",
        "Bob Acme",
        "Assigned",
        "P1",
        "Paula Partner",
        "Security",
        "scanner",
        "urgent",
    ):
        assert text in head, text
    watchers = re.search(r'<div id="fact-watchers">.*?<dd>(.*?)</dd>', head, re.DOTALL).group(1)
    assert watchers == "Bob Acme"  # the requester watches their ticket, and no one else


def test_the_status_moves_offer_only_the_allowed_next_statuses(cast, desk, web_as):
    head = element(
        web_as(cast.admin).get(f"/tickets/{desk.t5.number}/").content.decode(), "ticket-head"
    )
    offered = re.findall(r'data-move="([a-z_]+)"', head)
    assert offered == lifecycle.allowed_from("closed") == ["in_progress"]


def test_the_timeline_shows_replies_notes_set_apart_events_and_attachments(cast, desk, web_as):
    services.reply(
        cast.admin,
        desk.t1,
        body_text="We will swap the drum.",
        uploads=[services.Upload("drum.pdf", b"%PDF-1.4 drum")],
        source=Source.CLI,
    )
    services.note(cast.admin, desk.t1, body_text="Drum is under warranty.", source=Source.CLI)
    services.change_status(cast.admin, desk.t1, "in_progress", source=Source.CLI)
    html = web_as(cast.partner).get(f"/tickets/{desk.t1.number}/").content.decode()
    timeline = element(html, "timeline")
    note = Article.objects.get(ticket=desk.t1, kind="note")
    reply = Article.objects.get(ticket=desk.t1, kind="reply", body_text__contains="drum")
    assert f'<article class="article note" id="article-{note.pk}"' in timeline
    assert f'<article class="article reply" id="article-{reply.pk}"' in timeline
    assert "Internal note" in timeline
    assert "Drum is under warranty." in timeline
    assert "Status: New → In progress." in timeline
    attachment = Attachment.objects.get(article=reply)
    assert f'href="/tickets/attachments/{attachment.pk}/"' in timeline
    assert "drum.pdf" in timeline


# --- canned replies ----------------------------------------------------------------------------


def test_canned_replies_for_all_or_for_the_tickets_practice_are_offered(cast, desk, web_as):
    CannedReply.objects.create(name="Thanks", body="Thank you, we are on it.")
    CannedReply.objects.create(name="Badge reset", body="Your badge…", practice=cast.security)
    CannedReply.objects.create(name="Reboot router", body="Please…", practice=cast.networking)
    html = web_as(cast.admin).get(f"/tickets/{desk.t1.number}/").content.decode()
    picker = re.search(r'<select name="canned".*?</select>', html, re.DOTALL).group(0)
    assert 'data-canned-for="reply-body"' in picker
    assert 'data-body="Thank you, we are on it."' in picker
    assert "Badge reset" in picker
    assert "Reboot router" not in picker


def test_a_canned_reply_fills_an_empty_message_when_sent_without_javascript(cast, desk, web_as):
    canned = CannedReply.objects.create(name="Thanks", body="Thank you, we are on it.")
    response = web_as(cast.admin).post(
        f"/tickets/{desk.t1.number}/reply/", {"canned": canned.pk, "body": ""}
    )
    assert response.status_code == 302
    assert desk.t1.articles.filter(kind="reply", body_text="Thank you, we are on it.").exists()


# --- the reply box -----------------------------------------------------------------------------


def test_a_public_reply_is_written_through_the_service_with_a_web_audit_record(cast, desk, web_as):
    response = web_as(cast.partner).post(
        f"/tickets/{desk.t1.number}/reply/",
        {"body": "Coming at noon.", "time_spent_minutes": "15"},
    )
    article = desk.t1.articles.get(body_text="Coming at noon.")
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{desk.t1.number}/#article-{article.pk}"
    assert article.kind == "reply"
    assert article.author == cast.partner
    assert article.time_spent_minutes == 15
    assert web_records(cast.partner, "ticket.reply", desk.t1).count() == 1
    assert Ticket.objects.get(pk=desk.t1.pk).first_responded_at is not None


def test_the_internal_note_toggle_writes_a_note_not_a_reply(cast, desk, web_as):
    web_as(cast.desk).post(
        f"/tickets/{desk.t2.number}/reply/", {"body": "Client is grumpy.", "internal": "on"}
    )
    article = desk.t2.articles.get(body_text="Client is grumpy.")
    assert article.kind == "note"
    assert web_records(cast.desk, "ticket.note", desk.t2).count() == 1
    assert Ticket.objects.get(pk=desk.t2.pk).first_responded_at is None


def test_files_uploaded_with_a_reply_are_stored_and_linked(cast, desk, web_as):
    upload = SimpleUploadedFile("log.txt", b"error 42\n", content_type="text/plain")
    web_as(cast.admin).post(
        f"/tickets/{desk.t1.number}/reply/", {"body": "Log attached.", "attachments": [upload]}
    )
    attachment = Attachment.objects.get(ticket=desk.t1)
    assert attachment.filename == "log.txt"
    assert attachment.size == 9
    assert attachment.article.body_text == "Log attached."


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(
    cast, desk, web_as, settings, tmp_path
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    small = SimpleUploadedFile("small.txt", b"fine")
    large = SimpleUploadedFile("huge.bin", b"x" * 2048)
    before = desk.t1.articles.count()
    response = web_as(cast.admin).post(
        f"/tickets/{desk.t1.number}/reply/",
        {"body": "Two files.", "attachments": [small, large]},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "huge.bin is 2.0\xa0KB; the limit is 1.0\xa0KB per file." in html
    assert "Two files." in html  # the message is kept for another try
    assert desk.t1.articles.count() == before
    assert not Attachment.objects.exists()
    files = Path(tmp_path / "files")
    assert not files.exists() or not any(path.is_file() for path in files.rglob("*"))


def test_an_empty_reply_is_refused_with_the_reason(cast, desk, web_as):
    before = desk.t1.articles.count()
    response = web_as(cast.admin).post(f"/tickets/{desk.t1.number}/reply/", {"body": "  "})
    assert response.status_code == 400
    assert "The message is empty." in response.content.decode()
    assert desk.t1.articles.count() == before


def test_a_merged_ticket_shows_where_it_went_and_offers_no_actions(cast, desk, web_as):
    services.merge(cast.admin, desk.t6, desk.t1, source=Source.CLI)
    html = web_as(cast.admin).get(f"/tickets/{desk.t6.number}/").content.decode()
    assert f'Merged into <a href="/tickets/{desk.t1.number}/">{desk.t1.number}</a>' in html
    assert 'id="reply-form"' not in html
    assert 'id="ticket-actions"' not in html


def test_the_ticket_page_has_the_history_of_changes(cast, desk, web_as):
    html = web_as(cast.admin).get(f"/tickets/{desk.t5.number}/").content.decode()
    history = element(html, "ticket-history")
    assert "ticket.status" in history
    assert "ticket.assign" in history


def test_desk_pages_load_the_shortcuts_and_list_them_in_a_help(cast, desk, web_as):
    admin = web_as(cast.admin)
    for url in ("/tickets/", f"/tickets/{desk.t1.number}/", "/tickets/search?q=x", "/tickets/new/"):
        html = admin.get(url).content.decode()
        assert '<script src="/static/tickets/desk.js" defer></script>' in html
        assert 'id="shortcut-help"' in html
        assert 'id="ticket-search"' in html
