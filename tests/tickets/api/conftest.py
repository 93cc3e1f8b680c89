"""The service desk of the API tests: tickets of both clients, seen from every role of the cast.

- ``acme_bob``: opened by Bob (Acme client user); a public reply with a file from Paula and an
  internal note with a file.
- ``acme_alice``: opened by Alice (Acme client admin), assigned to Ada the associate.
- ``globex_hank``: opened by Hank (Globex client user), with a file on its first message.
- ``globex_security``: opened by the admin for Globex in the Security practice, unassigned, so
  Paula (who has that skill) sees it too.

Each ticket has a second public message, from the network, so each can be split.

Every ticket mentions "widget", so one search term finds them all; only the note says "zebra".
"""

import json
from dataclasses import dataclass

import pytest

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, Attachment, Ticket

API = "/api/v1"
NETWORK = ("admin", "partner", "other_partner", "associate", "desk")
CONTACTS = ("client_admin", "client_user", "other_client_admin", "other_client_user")
ROLES = (*NETWORK, *CONTACTS, "outsider")
NOTE_WORD = "zebra"


@dataclass
class Desk:
    acme_bob: Ticket
    acme_alice: Ticket
    globex_hank: Ticket
    globex_security: Ticket
    note: Article
    reply_file: Attachment
    note_file: Attachment
    globex_file: Attachment

    def tickets(self) -> dict[str, Ticket]:
        return {
            "acme_bob": self.acme_bob,
            "acme_alice": self.acme_alice,
            "globex_hank": self.globex_hank,
            "globex_security": self.globex_security,
        }

    def files(self) -> dict[str, Attachment]:
        return {
            "reply_file": self.reply_file,
            "note_file": self.note_file,
            "globex_file": self.globex_file,
        }


# Which of the desk's tickets each role sees (the access rule of tickets.access).
SEES = {
    "admin": {"acme_bob", "acme_alice", "globex_hank", "globex_security"},
    "desk": {"acme_bob", "acme_alice", "globex_hank", "globex_security"},
    "partner": {"acme_bob", "acme_alice", "globex_security"},
    "other_partner": {"globex_hank", "globex_security"},
    "associate": {"acme_alice"},
    "client_admin": {"acme_bob", "acme_alice"},
    "client_user": {"acme_bob"},
    "other_client_admin": {"globex_hank", "globex_security"},
    "other_client_user": {"globex_hank"},
    "outsider": set(),
}


@pytest.fixture
def desk(cast) -> Desk:
    web = Source.WEB
    acme_bob = services.create_ticket(
        cast.client_user,
        cast.acme,
        subject="Oven sensor offline",
        body_text="The widget on the oven sensor at the bakery is offline.",
        source=web,
    )
    reply = services.reply(
        cast.partner,
        acme_bob,
        body_text="Please send a photo of the widget.",
        uploads=[services.Upload("steps.txt", b"1. unplug the widget\n2. plug it back\n")],
        source=web,
    )
    note = services.note(
        cast.partner,
        acme_bob,
        body_text=f"Supplier code {NOTE_WORD}-77 for the widget.",
        uploads=[services.Upload("invoice.txt", b"internal price list\n")],
        source=web,
    )
    acme_alice = services.create_ticket(
        cast.client_admin,
        cast.acme,
        subject="Payroll laptop slow",
        body_text="The payroll laptop is slow since the widget update.",
        source=web,
    )
    services.assign(cast.admin, acme_alice, cast.associate_record, source=web)
    globex_hank = services.create_ticket(
        cast.other_client_user,
        cast.globex,
        subject="Dental chair printer offline",
        body_text="The printer widget next to chair 2 shows offline.",
        uploads=[services.Upload("error.txt", b"E42 printer widget error\n")],
        source=web,
    )
    globex_security = services.create_ticket(
        cast.admin,
        cast.globex,
        subject="Firewall review",
        body_text="Yearly review of the firewall widget rules.",
        practice_id=cast.security.pk,
        source=web,
    )
    for ticket, author in (
        (acme_alice, cast.associate),
        (globex_hank, cast.other_partner),
        (globex_security, cast.admin),
    ):
        services.reply(author, ticket, body_text="Looking into the widget now.", source=web)
    return Desk(
        acme_bob=acme_bob,
        acme_alice=Ticket.objects.get(pk=acme_alice.pk),
        globex_hank=globex_hank,
        globex_security=globex_security,
        note=note,
        reply_file=reply.attachments.get(),
        note_file=note.attachments.get(),
        globex_file=Attachment.objects.get(ticket=globex_hank),
    )


def post(client, url: str, payload=None, **headers):
    """A JSON POST under /api/v1."""
    return client.post(
        API + url,
        data=json.dumps(payload if payload is not None else {}),
        content_type="application/json",
        headers=headers,
    )


def patch(client, url: str, payload):
    return client.patch(API + url, data=json.dumps(payload), content_type="application/json")


def get(http, url: str, **params):
    return http.get(API + url, params)


def numbers(response) -> set[str]:
    """The ticket numbers of a list page."""
    assert response.status_code == 200, response.content
    return {item["number"] for item in response.json()["items"]}


def names_of(desk: Desk, numbers_seen: set[str]) -> set[str]:
    by_number = {ticket.number: name for name, ticket in desk.tickets().items()}
    return {by_number.get(number, number) for number in numbers_seen}
