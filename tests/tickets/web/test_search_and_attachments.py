"""The search page with highlighted snippets, and the attachment download every face shares."""

from __future__ import annotations

import re

import pytest

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Attachment

from .support import EVERYONE, NETWORK, NOT_NETWORK

FOUND = {
    "admin": True,
    "desk": True,
    "partner": True,
    "other_partner": False,
    "associate": False,
}


def _hits(html: str) -> list[str]:
    return re.findall(r'<li data-ticket="(TW-\d+)"', html)


@pytest.mark.parametrize("role", NETWORK)
def test_search_finds_only_tickets_the_person_may_see(cast, desk, web_as, role):
    response = web_as(getattr(cast, role)).get("/tickets/search", {"q": "printer"})
    assert response.status_code == 200
    assert _hits(response.content.decode()) == ([desk.t1.number] if FOUND[role] else [])


def test_search_snippets_mark_the_words_found(cast, desk, web_as):
    services.reply(
        cast.admin, desk.t2, body_text="The access point reboots nightly.", source=Source.CLI
    )
    html = web_as(cast.desk).get("/tickets/search/", {"q": "reboots"}).content.decode()
    assert _hits(html) == [desk.t2.number]
    assert "<mark>reboots</mark>" in html


def test_the_network_finds_tickets_by_their_internal_notes(cast, desk, web_as):
    services.note(cast.admin, desk.t3, body_text="Spare switch in the van", source=Source.CLI)
    assert _hits(web_as(cast.associate).get("/tickets/search", {"q": "van"}).content.decode()) == [
        desk.t3.number
    ]


def test_search_by_number_goes_straight_to_the_ticket(cast, desk, web_as):
    html = web_as(cast.admin).get("/tickets/search", {"q": desk.t4.number}).content.decode()
    assert _hits(html)[0] == desk.t4.number


def test_words_written_like_tags_are_found_on_every_database(cast, desk, web_as):
    services.reply(
        cast.admin, desk.t1, body_text="Error <timeout> on List<String>", source=Source.CLI
    )
    services.note(cast.admin, desk.t1, body_text="<script>kangaroo()</script>", source=Source.CLI)
    admin = web_as(cast.admin)
    for word in ("timeout", "string", "kangaroo"):
        html = admin.get("/tickets/search", {"q": word}).content.decode()
        assert _hits(html) == [desk.t1.number], word
        assert f"<mark>{word}</mark>" in html.lower()


def test_an_empty_search_lists_nothing_and_a_miss_says_so(cast, desk, web_as):
    admin = web_as(cast.admin)
    assert 'id="search-results"' not in admin.get("/tickets/search").content.decode()
    assert "Nothing found for “zebra”." in admin.get("/tickets/search?q=zebra").content.decode()


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_search_is_404_outside_the_network(cast, desk, web_as, role):
    response = web_as(getattr(cast, role)).get("/tickets/search", {"q": "printer"})
    assert response.status_code == 404
    assert b"Printer" not in response.content


# --- attachments -------------------------------------------------------------------------------


@pytest.fixture
def files(cast):
    """A public file and a file on an internal note, on a ticket Bob (client user) requested."""
    ticket = services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Files",
        body_text="See attached.",
        requester_id=cast.acme_user_contact.pk,
        uploads=[services.Upload("report.html", b"<html><script>alert(1)</script></html>")],
        source=Source.CLI,
    )
    services.note(
        cast.admin,
        ticket,
        body_text="Internal",
        uploads=[services.Upload("secret.txt", b"password list")],
        source=Source.CLI,
    )
    public = Attachment.objects.get(filename="report.html")
    internal = Attachment.objects.get(filename="secret.txt")
    return public, internal


# Who may download the public file / the note's file.
DOWNLOADS = {
    "admin": (True, True),
    "desk": (True, True),
    "partner": (True, True),
    "other_partner": (False, False),
    "associate": (False, False),
    "client_admin": (True, False),
    "client_user": (True, False),
    "outsider": (False, False),
}


@pytest.mark.parametrize("role", EVERYONE)
def test_attachments_download_only_for_who_sees_them(cast, files, web_as, role):
    client = web_as(getattr(cast, role))
    for attachment, allowed in zip(files, DOWNLOADS[role], strict=True):
        response = client.get(f"/tickets/attachments/{attachment.pk}/")
        assert response.status_code == (200 if allowed else 404), attachment.filename
        if not allowed:
            assert b"password" not in response.content
            assert b"<script>" not in response.content


def test_a_download_is_an_attachment_never_sniffed_and_never_run(cast, files, web_as):
    public, _ = files
    response = web_as(cast.client_admin).get(f"/tickets/attachments/{public.pk}/")
    assert response["Content-Disposition"] == 'attachment; filename="report.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<html><script>alert(1)</script></html>"


def test_anonymous_downloads_are_sent_to_sign_in(client, files):
    response = client.get(f"/tickets/attachments/{files[0].pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_file_missing_from_storage_is_404(cast, files, web_as):
    public, _ = files
    public.file.storage.delete(public.file.name)
    assert web_as(cast.admin).get(f"/tickets/attachments/{public.pk}/").status_code == 404
