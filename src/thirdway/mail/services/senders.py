"""Who is writing: the account a sender writes as on a ticket, the contact a new message comes
from (made when the sender's domain belongs to a client), and the mail room's own account."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.clients.models import Client, Contact
from thirdway.mail import parsing
from thirdway.mail.models import ClientDomain, Mailbox
from thirdway.tickets.models import Ticket

MAIL_USERNAME = "thirdway-mail"


def mail_actor() -> User:
    """The account the mail room acts as where no person does (bounce notes, new contacts)."""
    user = User.objects.filter(username=MAIL_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return accounts.create_user(
                None, username=MAIL_USERNAME, role=Role.DESK, first_name="E-mail", source="system"
            )
    except (IntegrityError, ValidationError):
        return User.objects.get(username=MAIL_USERNAME)


# --- who is writing ------------------------------------------------------------------------------


def author_on(ticket: Ticket, address: str) -> User | None:
    """The account a sender writes on this ticket as: a contact of its client, or a watcher."""
    contact = (
        Contact.objects.with_email(address)
        .filter(client_id=ticket.client_id, is_active=True)
        .select_related("user")
        .first()
    )
    if contact is not None:
        return login_of(contact)
    return ticket.watchers.filter(email__iexact=address, is_active=True).first()


def colleague_on(ticket: Ticket, parsed: parsing.ParsedMessage) -> User | None:
    """A sender at a domain the practice mapped to the ticket's client, who is no contact of it
    yet (a colleague in copy answering): made its contact, with the service's audit record.
    A deactivated contact stays deactivated: their mail is refused as before."""
    address = parsed.from_address
    domain = address.rpartition("@")[2].lower()
    if not ClientDomain.objects.filter(domain=domain, client_id=ticket.client_id).exists():
        return None
    if ticket.client.contacts.with_email(address).exists():
        return None
    return login_of(new_contact(ticket.client, address, parsed.from_name))


def login_of(contact: Contact) -> User:
    if contact.user_id is None or not contact.user.is_active:
        contact = clients.give_login(mail_actor(), contact, source=Source.SYSTEM)
    return contact.user


@dataclass(frozen=True)
class Claimed:
    """An address that is an active contact at several clients, none of which owns its domain:
    the desk decides which client the message is from."""

    clients: tuple[Client, ...]

    def reason(self, address: str) -> str:
        names = ", ".join(f"{client.name} (#{client.pk})" for client in self.clients)
        return (
            f"{address} is a contact at several clients: {names}. Choose the client it writes for."
        )


def contact_for(
    parsed: parsing.ParsedMessage, mailbox: Mailbox | None, *, client: Client | None = None
) -> Contact | Claimed | None:
    """A known contact; else a new contact at the client owning the sender's domain (or the
    mailbox's own client); else None (triage).

    An address that is a contact at several clients is never given to one of them silently: the
    one owning the sender's domain has it, or the desk chooses (``Claimed``, then ``client``)."""
    address = parsed.from_address
    domain = address.rpartition("@")[2].lower()
    known = list(
        Contact.objects.with_email(address)
        .filter(is_active=True)
        .select_related("client", "user")
        .order_by("id")
    )
    if client is not None:  # the desk's choice
        chosen = [contact for contact in known if contact.client_id == client.pk]
        return chosen[0] if chosen else new_contact(client, address, parsed.from_name)
    by_client = {contact.client_id: contact for contact in reversed(known)}
    if len(by_client) == 1:
        return known[0]
    owner = ClientDomain.objects.filter(domain=domain).select_related("client").first()
    if by_client:
        if owner is not None and owner.client_id in by_client:
            return by_client[owner.client_id]
        return Claimed(tuple(sorted((c.client for c in by_client.values()), key=_by_name)))
    owning = owner.client if owner else (mailbox.default_client if mailbox else None)
    if owning is None:
        return None
    return new_contact(owning, address, parsed.from_name)


def _by_name(client: Client) -> tuple[str, int]:
    return (client.name.lower(), client.pk)


def claimants(addresses: list[str]) -> dict[str, list[Client]]:
    """The clients each address is an active contact at, where there are several (shown to the
    desk next to the messages waiting in triage)."""
    found: dict[str, dict[int, Client]] = {}
    wanted = {address.lower() for address in addresses if address}
    if not wanted:
        return {}
    contacts = (
        Contact.objects.annotate(address=Lower("email"))
        .filter(address__in=wanted, is_active=True)
        .select_related("client")
    )
    for contact in contacts:
        found.setdefault(contact.address, {})[contact.client_id] = contact.client
    return {
        address: sorted(by_id.values(), key=_by_name)
        for address, by_id in found.items()
        if len(by_id) > 1
    }


def new_contact(client: Client, address: str, name: str) -> Contact:
    """A new contact at ``client``; or the one another process has just created for the same
    address (two processing lanes, two messages from one new sender)."""
    actor = mail_actor()
    try:
        with transaction.atomic():
            return clients.create_contact(
                actor,
                client,
                name=(name or address.partition("@")[0])[:150],
                email=address,
                source=Source.SYSTEM,
            )
    except (ValidationError, IntegrityError):
        created = client.contacts.with_email(address).select_related("client", "user").first()
        if created is None:
            raise
        return created
