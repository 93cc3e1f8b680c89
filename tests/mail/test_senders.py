"""Sender to client, safely: a client cannot claim another client's mail domain, and an address
several clients have as a contact is never given to one of them silently."""

from __future__ import annotations

import json

import pytest

from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.clients.models import Contact
from thirdway.mail import services
from thirdway.mail.models import ClientDomain, InboundSource, InboundStatus
from thirdway.tickets.models import Ticket

from .conftest import mail

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, mailbox=None):
    message, _ = services.receive_and_process(raw, mailbox=mailbox, source=InboundSource.PIPE)
    return message


@pytest.fixture
def globex_domain(cast) -> ClientDomain:
    return services.set_client_domain(cast.admin, cast.globex, "globex.example", source="cli")


def test_a_client_admin_cannot_add_a_contact_at_another_client_s_domain(
    cast, api_as, globex_domain
):
    payload = {"client": cast.acme.pk, "name": "Squatter", "email": "ceo@Globex.example"}
    answer = api_as(cast.client_admin).post(
        "/api/v1/contacts", json.dumps(payload), content_type="application/json"
    )
    assert answer.status_code == 400, answer.content
    text = answer.content.decode()
    assert "email" in text and "belongs to another client" in text
    assert "Globex" not in text.replace("Globex.example", "").replace("globex.example", "")
    assert not Contact.objects.filter(client=cast.acme, email__iexact="ceo@globex.example")
    # Mail from that address still goes where its domain says.
    message = ingest(mail(sender="ceo@globex.example"))
    assert message.status == InboundStatus.TICKET and message.ticket.client == cast.globex


def test_a_client_admin_cannot_move_a_contact_to_another_client_s_domain(
    cast, api_as, globex_domain
):
    bob = cast.acme_user_contact
    answer = api_as(cast.client_admin).patch(
        f"/api/v1/contacts/{bob.pk}",
        json.dumps({"email": "bob@globex.example"}),
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content
    assert "belongs to another client" in answer.content.decode()
    bob.refresh_from_db()
    assert bob.email == "bob@acme.example"


def test_a_client_admin_may_add_contacts_at_their_own_or_an_unmapped_domain(cast, globex_domain):
    services.set_client_domain(cast.admin, cast.acme, "acme.example", source="cli")
    for address in ("carla@acme.example", "dave@gmail.example"):
        clients.create_contact(
            cast.client_admin, cast.acme, name="X", email=address, source=Source.API
        )
    assert cast.acme.contacts.filter(email__in=["carla@acme.example", "dave@gmail.example"])


def test_the_network_may_add_a_contact_at_another_client_s_domain(cast, globex_domain):
    contact = clients.create_contact(
        cast.admin, cast.acme, name="Consultant", email="gina@globex.example", source=Source.API
    )
    assert contact.client == cast.acme


def test_an_address_two_clients_have_goes_to_the_desk_with_both_named(cast, helpdesk):
    clients.create_contact(
        cast.admin, cast.acme, name="Gina at Acme", email="gina@globex.example", source="cli"
    )
    message = ingest(mail(sender="gina@globex.example"), helpdesk)
    assert message.status == InboundStatus.UNKNOWN_CLIENT
    assert "several clients" in message.reason
    assert cast.acme.name in message.reason and cast.globex.name in message.reason
    assert Ticket.objects.count() == 0


def test_the_client_owning_the_domain_wins_over_another_having_the_address(
    cast, helpdesk, globex_domain
):
    clients.create_contact(
        cast.admin, cast.acme, name="Gina at Acme", email="gina@globex.example", source="cli"
    )
    message = ingest(mail(sender="gina@globex.example"), helpdesk)
    assert message.status == InboundStatus.TICKET
    assert message.ticket.client == cast.globex
    assert message.ticket.requester == cast.globex_admin_contact


def test_the_squatter_s_contact_no_longer_captures_mail(cast, helpdesk):
    """Before the domain was mapped, Acme's admin added a contact at Globex's address; Acme's
    contact has the lower id, so it used to win."""
    squat = clients.create_contact(
        cast.client_admin, cast.acme, name="Hank?", email="hank2@globex.example", source="api"
    )
    real = clients.create_contact(
        cast.admin, cast.globex, name="Hank 2", email="hank2@globex.example", source="cli"
    )
    assert squat.pk < real.pk
    services.set_client_domain(cast.admin, cast.globex, "globex.example", source="cli")
    message = ingest(mail(sender="hank2@globex.example"), helpdesk)
    assert message.status == InboundStatus.TICKET and message.ticket.client == cast.globex


def test_the_desk_sees_the_candidates_and_its_choice_holds(cast, helpdesk, web_as):
    clients.create_contact(
        cast.admin, cast.acme, name="Gina at Acme", email="gina@globex.example", source="cli"
    )
    message = ingest(mail(sender="gina@globex.example"), helpdesk)
    browser = web_as(cast.desk)
    page = browser.get("/mail/triage/").content.decode()
    assert "gina@globex.example" in page
    assert f"/clients/{cast.acme.pk}/" in page and f"/clients/{cast.globex.pk}/" in page
    detail = browser.get(f"/mail/messages/{message.pk}/").content.decode()
    assert "A contact at" in detail and cast.acme.name in detail and cast.globex.name in detail
    after = services.assign_to_client(cast.desk, message, cast.acme, source=Source.WEB)
    assert after.status == InboundStatus.TICKET
    assert after.ticket.client == cast.acme
    assert after.ticket.requester.client == cast.acme
