"""A page of tickets (or of a timeline) costs the same number of queries however long it is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Tag

from .conftest import get


def open_tickets(cast, count: int) -> None:
    # The network defines the tags; the client user picks among them.
    for name in ("till", "shop-0", "shop-1", "shop-2"):
        Tag.objects.get_or_create(name=name)
    for number in range(count):
        services.create_ticket(
            cast.client_user,
            cast.acme,
            subject=f"Till {number} beeps",
            body_text="It beeps.",
            tags=["till", f"shop-{number % 3}"],
            source=Source.CLI,
        )


def queries(client, url, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = get(client, url, **params)
    assert response.status_code == 200, response.content
    body = response.json()
    return len(captured), len(body["items"])


@pytest.mark.parametrize("role", ["admin", "partner", "client_admin", "client_user"])
def test_a_page_of_tickets_costs_the_same_queries_for_2_and_25_tickets(role, cast, api_as):
    client = api_as(getattr(cast, role))
    get(client, "/tickets")  # the token's first use is noted once; leave it out of the count
    open_tickets(cast, 2)
    few, shown = queries(client, "/tickets", limit=50)
    assert shown == 2
    open_tickets(cast, 23)
    many, shown = queries(client, "/tickets", limit=50)
    assert shown == 25
    assert many == few
    filtered, _ = queries(client, "/tickets", limit=50, status=["new", "assigned"], tag="till")
    assert filtered == few


def test_a_page_of_a_timeline_costs_the_same_queries_for_2_and_25_articles(cast, api_as):
    open_tickets(cast, 1)
    client = api_as(cast.partner)
    get(client, "/tickets")
    ticket = cast.acme.tickets.get()
    services.reply(
        cast.partner,
        ticket,
        body_text="With a file",
        uploads=[services.Upload("a.txt", b"a")],
        source=Source.CLI,
    )
    few, shown = queries(client, f"/tickets/{ticket.pk}/articles", limit=50)
    assert shown == 2
    for number in range(23):
        services.note(
            cast.partner,
            ticket,
            body_text=f"Note {number}",
            uploads=[services.Upload(f"n{number}.txt", b"n")],
            source=Source.CLI,
        )
    many, shown = queries(client, f"/tickets/{ticket.pk}/articles", limit=50)
    assert shown == 25
    assert many == few
