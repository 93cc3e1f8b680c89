"""Who is writing: the account a sender writes as on a ticket, the contact a new message comes
from (made when the sender's domain belongs to a client), and the mail room's own account."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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


def login_of(contact: Contact) -> User:
    if contact.user_id is None or not contact.user.is_active:
        contact = clients.give_login(mail_actor(), contact, source=Source.SYSTEM)
    return contact.user


def contact_for(parsed: parsing.ParsedMessage, mailbox: Mailbox | None) -> Contact | None:
    """A known contact; else a new contact at the client owning the sender's domain (or the
    mailbox's own client); else None (triage)."""
    address = parsed.from_address
    contact = (
        Contact.objects.with_email(address)
        .filter(is_active=True)
        .select_related("client", "user")
        .order_by("id")
        .first()
    )
    if contact is not None:
        return contact
    domain = address.rpartition("@")[2].lower()
    owner = ClientDomain.objects.filter(domain=domain).select_related("client").first()
    client = owner.client if owner else (mailbox.default_client if mailbox else None)
    if client is None:
        return None
    return new_contact(client, address, parsed.from_name)


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
