"""Each portal page for every role of the cast: who sees which tickets, and who gets a 404."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from support.pages import NETWORK
from thirdway.audit.models import Source
from thirdway.tickets import services as tickets

from .conftest import CONTACTS, MINE, VISIBLE, ids_of, listed_ticket_ids


def test_anonymous_visitors_are_sent_to_the_portal_sign_in(cast, desk, client):
    pk = desk.bob_laptop.pk
    for url in (
        "/portal/",
        "/portal/new/",
        f"/portal/tickets/{pk}/",
        f"/portal/tickets/{pk}/reply/",
        f"/portal/tickets/{pk}/close/",
    ):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/portal/login/?next="), url
            assert "Laptop" not in response.content.decode()
    download = client.get(f"/portal/attachments/{desk.bob_file.pk}/")
    assert download["Location"].startswith("/portal/login/?next=")


def test_the_ticket_list_shows_each_role_exactly_its_tickets(cast, desk, web_as, role):
    response = web_as(getattr(cast, role)).get("/portal/")
    html = response.content.decode()
    if role in CONTACTS:
        assert response.status_code == 200
        assert listed_ticket_ids(html) == ids_of(desk, VISIBLE[role])
        for key, ticket in desk.by_key().items():
            assert (ticket.subject in html) == (key in VISIBLE[role]), key
    else:
        assert response.status_code == 404
        assert "ticket-list" not in html
        for ticket in desk.by_key().values():
            assert ticket.subject not in html


@pytest.mark.parametrize("who", [*sorted(NETWORK), "outsider"])
def test_the_network_is_pointed_to_the_desk_and_others_to_their_administrator(cast, web_as, who):
    html = web_as(getattr(cast, who)).get("/portal/").content.decode()
    if who in NETWORK:
        assert "The network works on tickets at the" in html
        assert '<a class="service-desk" href="/tickets/">service desk</a>' in html
    else:
        assert "ask your organisation's administrator" in html


def test_the_list_shows_status_and_last_update(cast, desk, web_as):
    tickets.change_status(cast.desk, desk.bob_laptop, "waiting_client", source=Source.WEB)
    html = web_as(cast.client_user).get("/portal/").content.decode()
    assert '<span class="status status-waiting_client">Waiting on client</span>' in html
    assert "Updated " in html
    assert desk.bob_laptop.number in html


@pytest.mark.parametrize("who", ["client_admin", "other_client_admin"])
def test_a_client_admin_filters_between_mine_and_the_whole_organisation(cast, desk, web_as, who):
    browser = web_as(getattr(cast, who))
    everything = browser.get("/portal/?show=all").content.decode()
    mine = browser.get("/portal/?show=mine").content.decode()
    assert listed_ticket_ids(everything) == ids_of(desk, VISIBLE[who])
    assert listed_ticket_ids(mine) == ids_of(desk, MINE[who])
    assert 'href="?show=mine"' in everything


def test_a_client_user_has_no_filter_and_cannot_widen_the_list(cast, desk, web_as):
    html = web_as(cast.client_user).get("/portal/?show=all").content.decode()
    assert listed_ticket_ids(html) == ids_of(desk, VISIBLE["client_user"])
    assert "show=mine" not in html


@pytest.mark.parametrize(
    ("who", "term", "found"),
    [
        ("client_admin", "printer", {"alice_printer"}),
        ("client_admin", "battery", {"bob_laptop"}),
        ("client_user", "printer", set()),  # Alice's, not Bob's
        ("client_user", "backup", {"acme_backup"}),  # watched
        ("client_admin", "dental", set()),  # another organisation's
        ("client_user", "chair", set()),
        ("other_client_admin", "printer", set()),
        ("other_client_admin", "tablet", {"globex_chair"}),
        ("other_client_user", "tablet", set()),
    ],
)
def test_searching_finds_only_what_the_contact_may_see(cast, desk, web_as, who, term, found):
    html = web_as(getattr(cast, who)).get("/portal/", {"q": term}).content.decode()
    assert listed_ticket_ids(html) == ids_of(desk, found)


def test_searching_for_another_organisation_s_ticket_number_finds_nothing(cast, desk, web_as):
    html = web_as(cast.client_admin).get("/portal/", {"q": desk.globex_chair.number})
    assert listed_ticket_ids(html.content.decode()) == set()
    own = web_as(cast.client_admin).get("/portal/", {"q": desk.bob_laptop.number})
    assert listed_ticket_ids(own.content.decode()) == {desk.bob_laptop.pk}


def test_each_ticket_page_opens_only_for_who_may_see_the_ticket(cast, desk, web_as, role):
    browser = web_as(getattr(cast, role))
    for key, ticket in desk.by_key().items():
        response = browser.get(f"/portal/tickets/{ticket.pk}/")
        visible = role in CONTACTS and key in VISIBLE[role]
        assert response.status_code == (200 if visible else 404), key
        assert (ticket.subject in response.content.decode()) == visible, key


def test_a_ticket_page_that_does_not_exist_is_a_404(cast, web_as):
    assert web_as(cast.client_admin).get("/portal/tickets/999999/").status_code == 404


def test_the_new_ticket_page_is_for_contacts_only(cast, web_as, role):
    response = web_as(getattr(cast, role)).get("/portal/new/")
    assert response.status_code == (200 if role in CONTACTS else 404)
    if role in CONTACTS:
        assert 'enctype="multipart/form-data"' in response.content.decode()


@pytest.mark.parametrize(
    ("who", "assets"),
    [
        ("client_admin", ["ACME-SRV1", "BOB-LAPTOP"]),
        ("client_user", ["BOB-LAPTOP"]),
        ("other_client_admin", ["HANK-LAPTOP"]),
        ("other_client_user", ["HANK-LAPTOP"]),
    ],
)
def test_the_new_ticket_form_offers_only_the_contact_s_own_assets(cast, web_as, who, assets):
    html = web_as(getattr(cast, who)).get("/portal/new/").content.decode()
    for name in ("ACME-SRV1", "BOB-LAPTOP", "HANK-LAPTOP"):
        assert (f">{name}</option>" in html) == (name in assets), name


# Whose files each role may download: the rule of Attachment.objects.for_user, whatever the role.
DOWNLOADS = {
    "admin": {"bob", "globex"},
    "desk": {"bob", "globex"},
    "partner": {"bob"},  # leads Acme
    "other_partner": {"globex"},  # leads Globex
    "associate": set(),  # nothing assigned to them
    "client_admin": {"bob"},
    "client_user": {"bob"},
    "other_client_admin": {"globex"},
    "other_client_user": set(),  # neither requested nor watches Gina's ticket
    "outsider": set(),
}


def test_an_attachment_downloads_for_whoever_may_see_it_and_is_a_404_for_the_rest(
    cast, desk, web_as, role
):
    browser = web_as(getattr(cast, role))
    for key, attachment in (("bob", desk.bob_file), ("globex", desk.globex_file)):
        response = browser.get(f"/portal/attachments/{attachment.pk}/")
        assert response.status_code == (200 if key in DOWNLOADS[role] else 404), key


def test_a_download_is_an_attachment_with_its_sniffed_type_and_no_sniffing(cast, desk, web_as):
    response = web_as(cast.client_user).get(f"/portal/attachments/{desk.bob_file.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="battery.png"' in response["Content-Disposition"]
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_the_ticket_page_links_each_file_of_a_reply_to_a_download_that_works(cast, desk, web_as):
    browser = web_as(cast.client_admin)
    html = browser.get(f"/portal/tickets/{desk.bob_laptop.pk}/").content.decode()
    match = re.search(r'<a href="([^"]+)">battery\.png</a>', html)
    assert match, "no link to the file"
    # The desk's role-agnostic download when it is there, the portal's own otherwise.
    assert match.group(1) in (
        f"/tickets/attachments/{desk.bob_file.pk}/",
        f"/portal/attachments/{desk.bob_file.pk}/",
    )
    response = browser.get(match.group(1))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert web_as(cast.other_client_admin).get(match.group(1)).status_code == 404


def test_another_organisation_s_ids_give_nothing_on_every_page(cast, desk, web_as):
    browser = web_as(cast.other_client_admin)
    pk = desk.bob_laptop.pk
    assert browser.get(f"/portal/tickets/{pk}/").status_code == 404
    assert browser.post(f"/portal/tickets/{pk}/reply/", {"body": "hi"}).status_code == 404
    assert browser.post(f"/portal/tickets/{pk}/close/").status_code == 404
    assert browser.get(f"/portal/attachments/{desk.bob_file.pk}/").status_code == 404
    desk.bob_laptop.refresh_from_db()
    assert desk.bob_laptop.status == "new"
    assert desk.bob_laptop.articles.count() == 1


def test_the_pages_are_built_for_a_phone(cast, desk, web_as):
    browser = web_as(cast.client_user)
    for url in ("/portal/", "/portal/new/", f"/portal/tickets/{desk.bob_laptop.pk}/"):
        html = browser.get(url).content.decode()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "/static/portal/portal.css" in html
    text = Path(finders.find("portal/portal.css")).read_text()
    assert "min-height: 44px" in text
    assert "overflow-wrap: anywhere" in text
