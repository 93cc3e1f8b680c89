"""Opening a ticket from the desk: the client's own people, sites and assets only, priority from
the matrix unless overridden with a reason, an on-site window, tags and files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from thirdway.tickets.models import Attachment, Ticket

from .support import NOT_NETWORK, htmx, web_records

CLIENTS = {
    "admin": {"Acme Bakery", "Globex Dental"},
    "desk": {"Acme Bakery", "Globex Dental"},
    "partner": {"Acme Bakery"},
    "other_partner": {"Globex Dental"},
    "associate": {"Acme Bakery"},
}


def _form(cast, **changes) -> dict:
    data = {
        "client": cast.acme.pk,
        "requester": cast.acme_user_contact.pk,
        "site": cast.acme_site.pk,
        "asset": cast.acme_laptop.pk,
        "practice": cast.security.pk,
        "type": "incident",
        "impact": "1",
        "urgency": "2",
        "priority": "",
        "priority_reason": "",
        "tags": "Laptop, screen",
        "subject": "Screen flickers",
        "body": "Since this morning.",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", list(CLIENTS))
def test_the_form_offers_only_the_clients_one_may_see(cast, web_as, role):
    html = web_as(getattr(cast, role)).get("/tickets/new/").content.decode()
    for name in ("Acme Bakery", "Globex Dental"):
        assert (name in html) == (name in CLIENTS[role])


def test_choosing_a_client_offers_its_people_sites_and_assets_by_htmx(cast, web_as):
    response = htmx(web_as(cast.admin), "get", "/tickets/new/", {"client": cast.acme.pk})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="client-fields"')
    for text in ("Bob Acme", "Alice Acme", "Bakery", "BOB-LAPTOP", "ACME-SRV1"):
        assert text in html
    for text in ("Hank Globex", "Clinic", "HANK-LAPTOP"):
        assert text not in html


def test_a_client_out_of_scope_offers_nothing_of_it(cast, web_as):
    html = htmx(web_as(cast.partner), "get", "/tickets/new/", {"client": cast.globex.pk})
    assert "Hank Globex" not in html.content.decode()


def test_opening_a_ticket_writes_it_through_the_service(cast, web_as):
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n0000")
    response = web_as(cast.partner).post("/tickets/new/", {**_form(cast), "attachments": [upload]})
    ticket = Ticket.objects.get(subject="Screen flickers")
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert (ticket.client, ticket.requester, ticket.site, ticket.asset) == (
        cast.acme,
        cast.acme_user_contact,
        cast.acme_site,
        cast.acme_laptop,
    )
    assert (ticket.practice, ticket.impact, ticket.urgency, ticket.priority) == (
        cast.security,
        1,
        2,
        2,
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["laptop", "screen"]
    assert ticket.channel == "web"
    assert ticket.articles.get(kind="reply").body_text == "Since this morning."
    assert Attachment.objects.get(ticket=ticket).filename == "photo.png"
    assert web_records(cast.partner, "ticket.create", ticket).count() == 1


def test_another_clients_requester_site_or_asset_is_refused(cast, web_as):
    client = web_as(cast.admin)
    for field, foreign in (
        ("requester", cast.globex_user_contact.pk),
        ("site", cast.globex_site.pk),
        ("asset", cast.globex_laptop.pk),
    ):
        response = client.post("/tickets/new/", _form(cast, **{field: foreign}))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_client_one_may_not_see_is_refused(cast, web_as):
    response = web_as(cast.associate).post(
        "/tickets/new/", _form(cast, client=cast.globex.pk, requester="", site="", asset="")
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_overriding_the_priority_needs_a_reason(cast, web_as):
    client = web_as(cast.desk)
    response = client.post("/tickets/new/", _form(cast, priority="4"))
    assert "Say why the priority differs from the matrix." in response.content.decode()
    assert not Ticket.objects.exists()
    client.post("/tickets/new/", _form(cast, priority="4", priority_reason="Cosmetic only"))
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.priority_reason) == (4, "Cosmetic only")


def test_an_on_site_visit_window_is_kept_and_must_be_in_order(cast, web_as):
    client = web_as(cast.partner)
    window = {"needs_onsite": "on", "visit_starts_at": "2030-03-04T09:00"}
    response = client.post("/tickets/new/", _form(cast, **window, visit_ends_at="2030-03-04T08:00"))
    assert "The visit must end after it starts." in response.content.decode()
    client.post("/tickets/new/", _form(cast, **window, visit_ends_at="2030-03-04T11:00"))
    ticket = Ticket.objects.get()
    assert ticket.needs_onsite
    assert (ticket.visit_ends_at - ticket.visit_starts_at).total_seconds() == 7200


def test_a_file_over_the_limit_refuses_the_ticket_and_stores_nothing(cast, web_as, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    upload = SimpleUploadedFile("big.iso", b"0" * 101)
    response = web_as(cast.admin).post("/tickets/new/", {**_form(cast), "attachments": [upload]})
    assert (
        "big.iso is 101\xa0bytes; the limit is 100\xa0bytes per file." in response.content.decode()
    )
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_the_new_ticket_form_is_404_outside_the_network(cast, web_as, role):
    client = web_as(getattr(cast, role))
    assert client.get("/tickets/new/").status_code == 404
    assert client.post("/tickets/new/", _form(cast)).status_code == 404
    assert not Ticket.objects.exists()
