"""The portal's fixtures: a few tickets of both clients, and readers of the portal's pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from support.pages import ROLES
from thirdway.audit.models import Source
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Attachment, Channel, Ticket

CONTACTS = {"client_admin", "client_user", "other_client_admin", "other_client_user"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Desk:
    """The tickets every portal test starts from."""

    alice_printer: Ticket  # Acme, opened by Alice (client admin)
    bob_laptop: Ticket  # Acme, opened by Bob (client user) about his laptop, with a file
    acme_backup: Ticket  # Acme, opened by the desk for Alice; Bob watches it
    globex_chair: Ticket  # Globex, opened by Gina (client admin), with a file
    bob_file: Attachment
    globex_file: Attachment

    def by_key(self) -> dict[str, Ticket]:
        return {
            "alice_printer": self.alice_printer,
            "bob_laptop": self.bob_laptop,
            "acme_backup": self.acme_backup,
            "globex_chair": self.globex_chair,
        }


# The tickets each role finds in the portal's list ("all" for client admins).
VISIBLE = {
    "client_admin": {"alice_printer", "bob_laptop", "acme_backup"},
    "client_user": {"bob_laptop", "acme_backup"},
    "other_client_admin": {"globex_chair"},
    "other_client_user": set(),
}
MINE = {
    "client_admin": {"alice_printer", "acme_backup"},
    "other_client_admin": {"globex_chair"},
}


@pytest.fixture
def desk(cast) -> Desk:
    web = {"channel": Channel.PORTAL, "source": Source.WEB}
    alice_printer = tickets.create_ticket(
        cast.client_admin,
        cast.acme,
        subject="Printer jams on tray two",
        body_text="Every morning the printer jams.",
        **web,
    )
    bob_laptop = tickets.create_ticket(
        cast.client_user,
        cast.acme,
        subject="Laptop battery drains fast",
        body_text="It lasts an hour.",
        asset_id=cast.acme_laptop.pk,
        uploads=[tickets.Upload("battery.png", PNG)],
        **web,
    )
    acme_backup = tickets.create_ticket(
        cast.desk,
        cast.acme,
        subject="Server backup failed",
        body_text="The nightly backup of ACME-SRV1 failed.",
        requester_id=cast.acme_admin_contact.pk,
        asset_id=cast.acme_server.pk,
        source=Source.WEB,
    )
    tickets.set_watchers(
        cast.desk, acme_backup, [cast.client_admin, cast.client_user], source=Source.WEB
    )
    globex_chair = tickets.create_ticket(
        cast.other_client_admin,
        cast.globex,
        subject="Dental chair tablet offline",
        body_text="The tablet of chair three shows no network.",
        uploads=[tickets.Upload("xray-room.png", PNG)],
        **web,
    )
    return Desk(
        alice_printer=alice_printer,
        bob_laptop=bob_laptop,
        acme_backup=acme_backup,
        globex_chair=globex_chair,
        bob_file=Attachment.objects.get(ticket=bob_laptop),
        globex_file=Attachment.objects.get(ticket=globex_chair),
    )


@pytest.fixture(params=ROLES)
def role(request) -> str:
    """Parametrises a test over every role of the cast."""
    return request.param


def listed_ticket_ids(html: str) -> set[int]:
    """The tickets the list page links to, by id."""
    section = re.search(r'<ul class="ticket-list" id="tickets">(.*?)</ul>', html, re.DOTALL)
    assert section, "no ticket list in the page"
    return {int(pk) for pk in re.findall(r'href="/portal/tickets/(\d+)/"', section.group(1))}


def ids_of(desk: Desk, keys) -> set[int]:
    tickets_by_key = desk.by_key()
    return {tickets_by_key[key].pk for key in keys}


class ActiveContent(HTMLParser):
    """Everything in a page a browser could run: script elements without our src, event
    handler attributes, javascript: URLs, and SVG, MathML, frames, objects and styles."""

    RISKY_TAGS = {"svg", "math", "iframe", "object", "embed", "style", "base", "form-action"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append(f"<script> {attrs}")
        if tag in self.RISKY_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{tag} {name}={value!r}")
            url = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and url.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"{tag} {name}={value!r}")


def active_content(html: str) -> list[str]:
    reader = ActiveContent()
    reader.feed(html)
    return reader.found


def without_csrf(html: str) -> str:
    """A page with its per-render CSRF tokens blanked, to compare two renders."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
