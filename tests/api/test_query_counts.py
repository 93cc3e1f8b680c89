"""Each list endpoint runs a fixed number of queries, however many rows a page holds."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.api import API
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.network import services as network

MORE = 20
CLI = Source.CLI


def more_practices(cast):
    for number in range(MORE):
        network.create_practice(cast.admin, name=f"Practice {number}", source=CLI)


def more_partners(cast):
    """Partners with a skill each, on Acme's team so Acme's contacts see them too."""
    team = [cast.associate_record]
    for number in range(MORE):
        partner = network.create_partner(
            cast.admin,
            source=CLI,
            name=f"Partner {number}",
            email=f"partner{number}@network.example",
            latitude=45.0,
            longitude=5.0,
            time_zone="Europe/Paris",
        )
        network.set_skill(cast.admin, partner, cast.security, 1 + number % 5, source=CLI)
        team.append(partner)
    clients.set_team(cast.admin, cast.acme, team, source=CLI)


def more_absences(cast):
    start = timezone.now() + dt.timedelta(days=60)
    for number in range(MORE):
        network.add_absence(
            cast.admin,
            cast.desk_record,
            kind="training",
            starts_at=start + dt.timedelta(days=2 * number),
            ends_at=start + dt.timedelta(days=2 * number + 1),
            source=CLI,
        )


def more_clients(cast):
    for number in range(MORE):
        client = clients.create_client(
            cast.admin,
            name=f"Client {number}",
            lead_partner=cast.partner_record,
            time_zone="Europe/Paris",
            country="FR",
            source=CLI,
        )
        clients.set_team(cast.admin, client, [cast.associate_record, cast.desk_record], source=CLI)


def more_sites(cast):
    for number in range(MORE):
        clients.create_site(cast.admin, cast.acme, name=f"Site {number}", source=CLI)


def more_contacts(cast):
    for number in range(MORE):
        clients.create_contact(
            cast.admin,
            cast.acme,
            name=f"Contact {number}",
            email=f"contact{number}@acme.example",
            source=CLI,
        )


def more_assets(cast):
    """Bob's, so that he (a client user) has pages of them too."""
    for number in range(MORE):
        clients.create_asset(
            cast.admin,
            cast.acme,
            name=f"ASSET-{number}",
            kind="workstation",
            site_id=cast.acme_site.pk,
            contact_id=cast.acme_user_contact.pk,
            source=CLI,
        )


# Each list, with roles that see more than a page of 20 once the rows are added.
LISTS = {
    "practices": (more_practices, ["admin", "partner", "client_admin"]),
    "partners": (more_partners, ["admin", "desk", "client_admin", "client_user"]),
    "absences": (more_absences, ["admin", "associate"]),
    "clients": (more_clients, ["admin", "partner", "associate"]),
    "sites": (more_sites, ["admin", "partner", "client_admin"]),
    "contacts": (more_contacts, ["admin", "associate", "client_admin"]),
    "assets": (more_assets, ["admin", "partner", "client_admin", "client_user"]),
}
CASES = [(resource, role) for resource, (_, roles) in LISTS.items() for role in roles]


def queries(client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}?limit={rows}")
    assert response.status_code == 200
    assert len(response.json()["items"]) == rows
    return len(captured.captured_queries)


@pytest.mark.parametrize(("resource", "role"), CASES)
def test_a_list_runs_as_many_queries_for_20_rows_as_for_2(cast, api_as, resource, role):
    add_rows, _ = LISTS[resource]
    add_rows(cast)
    client = api_as(getattr(cast, role))
    url = f"{API}/{resource}"
    client.get(url)  # the first use of a token notes it; later ones within a minute do not

    few, many = queries(client, url, 2), queries(client, url, MORE)

    assert few == many
    # The token, the count, the page, one prefetch, and the contact of a client's person.
    assert many <= 5


def test_partners_of_a_page_come_with_their_skills(cast, api_as):
    more_partners(cast)

    items = api_as(cast.admin).get(f"{API}/partners?limit=50").json()["items"]

    bulk = [item for item in items if item["name"].startswith("Partner ")]
    assert len(bulk) == MORE
    assert all(item["skills"][0]["practice"] == "Security" for item in bulk)


def test_clients_of_a_page_come_with_their_team(cast, api_as):
    more_clients(cast)

    items = api_as(cast.partner).get(f"{API}/clients?limit=50").json()["items"]

    expected = sorted([cast.associate_record.pk, cast.desk_record.pk])
    bulk = [item for item in items if item["name"].startswith("Client ")]
    assert len(bulk) == MORE
    assert all(sorted(item["team"]) == expected for item in bulk)
