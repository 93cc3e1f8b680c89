"""With many clients the desk types and picks a client instead of scrolling a select."""

from __future__ import annotations

from thirdway.clients.models import Client
from thirdway.tickets.forms import LONG_LIST
from thirdway.tickets.models import Ticket


def _many_clients(count: int) -> None:
    Client.objects.bulk_create(
        Client(name=f"Client {n:04d}", time_zone="Europe/Paris", country="FR") for n in range(count)
    )


def test_the_new_ticket_form_offers_a_select_for_a_few_clients(cast, web_as):
    html = web_as(cast.desk).get("/tickets/new/").content.decode()
    assert '<select name="client"' in html
    assert "Acme Bakery" in html


def test_past_the_long_list_the_client_is_typed_and_still_checked(cast, web_as):
    _many_clients(LONG_LIST)
    desk = web_as(cast.desk)
    html = desk.get("/tickets/new/").content.decode()
    assert '<select name="client"' not in html
    assert 'name="client_search"' in html and 'hx-get="/tickets/pick/client/?field=client"' in html
    assert "Client 0001" not in html
    fields = desk.get(f"/tickets/new/?client={cast.acme.pk}", headers={"HX-Request": "true"})
    assert "Bob Acme" in fields.content.decode()
    response = desk.post(
        "/tickets/new/",
        {
            "client": cast.acme.pk,
            "type": "incident",
            "impact": 2,
            "urgency": 2,
            "subject": "Typed client",
            "body": "The client was typed by id.",
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get(subject="Typed client").client == cast.acme


def test_a_typed_client_outside_ones_scope_is_refused(cast, web_as):
    _many_clients(LONG_LIST)
    partner = web_as(cast.associate)
    response = partner.post(
        "/tickets/new/",
        {
            "client": cast.globex.pk,
            "type": "incident",
            "impact": 2,
            "urgency": 2,
            "subject": "Not mine",
            "body": "x",
        },
    )
    assert response.status_code == 200
    assert not Ticket.objects.filter(subject="Not mine").exists()
