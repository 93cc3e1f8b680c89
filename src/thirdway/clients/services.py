"""Every change to clients, sites, contacts and assets (the only writers of these models).

Services receive objects the caller has already looked up through ``for_user``; ids that arrive
in a payload are resolved here, inside the client they must belong to, so an id of another
client's site or contact is refused with the field named.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from thirdway.access import find_owned
from thirdway.accounts import access_lost
from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.clients.access import can_edit_client, can_edit_client_data
from thirdway.clients.models import Asset, Client, Contact, ContactRole, Site
from thirdway.errors import invalid, require
from thirdway.network.models import Partner

CLIENT_FIELDS = ["name", "lead_partner", "time_zone", "country", "region", "status", "notes"]
SITE_FIELDS = ["name", "address", "latitude", "longitude", "time_zone"]
CONTACT_FIELDS = ["name", "email", "phone", "role", "is_active"]
ASSET_FIELDS = ["name", "kind", "site", "contact", "serial", "operating_system", "notes"]
ROLE_OF_CONTACT = {ContactRole.ADMIN: Role.CLIENT_ADMIN, ContactRole.USER: Role.CLIENT_USER}


def _scope(client: Client) -> str:
    return f"client:{client.pk}"


# --- clients -----------------------------------------------------------------------------------


@transaction.atomic
def create_client(actor, *, source: str, **data) -> Client:
    require(actor.is_practice_admin, "Only a practice admin may add clients.")
    client = Client(**data)
    return create_and_record(
        actor, client, fields=CLIENT_FIELDS, action="client.create", source=source, scope=_scope
    )


@transaction.atomic
def update_client(actor, client: Client, data: dict, *, source: str) -> Client:
    require(can_edit_client(actor, client), "Only a practice admin or the lead partner may.")
    if "lead_partner" in data and not actor.is_practice_admin:
        raise PermissionDenied("Only a practice admin may hand a client to another lead partner.")
    return update_and_record(
        actor,
        client,
        data,
        fields=CLIENT_FIELDS,
        action="client.update",
        source=source,
        scope=_scope(client),
    )


@transaction.atomic
def set_team(actor, client: Client, partners: list[Partner], *, source: str) -> Client:
    """Name the partners and associates who serve the client (they then see it)."""
    require(can_edit_client(actor, client), "Only a practice admin or the lead partner may.")
    before = sorted(client.team.values_list("pk", flat=True))
    client.team.set(partners)
    after = sorted(p.pk for p in partners)
    left = [pk for pk in before if pk not in after]
    if left:
        users = [p.user for p in Partner.objects.filter(pk__in=left).select_related("user")]
        access_lost.lost_access(actor, users, source=source)
    if before != after:
        record(
            actor,
            "client.team",
            client,
            source=source,
            scope=_scope(client),
            changes={"team": [before, after]},
        )
    return client


# --- sites -------------------------------------------------------------------------------------


@transaction.atomic
def create_site(actor, client: Client, *, source: str, **data) -> Site:
    require(can_edit_client_data(actor, client), "You may not change this client's data.")
    data.setdefault("time_zone", client.time_zone)
    site = Site(client=client, **data)
    return create_and_record(
        actor, site, fields=SITE_FIELDS, action="site.create", source=source, scope=_scope(client)
    )


@transaction.atomic
def update_site(actor, site: Site, data: dict, *, source: str) -> Site:
    require(can_edit_client_data(actor, site.client), "You may not change this client's data.")
    return update_and_record(
        actor,
        site,
        data,
        fields=SITE_FIELDS,
        action="site.update",
        source=source,
        scope=_scope(site.client),
    )


# --- contacts ----------------------------------------------------------------------------------


def _check_unique_email(client: Client, email: str, exclude_pk=None) -> None:
    clash = client.contacts.with_email(email).exclude(pk=exclude_pk)
    if clash.exists():
        raise invalid(
            "email",
            f"{email} is already a contact of this client.",
            "an e-mail address no other contact of this client uses",
        )


def _check_domain_is_theirs(actor, client: Client, email: str) -> None:
    """Mail from a contact's address is read as coming from the contact's client, so only the
    network may put an address at a domain the practice mapped to another client (its mail
    would otherwise open tickets here).  The other client is not named: it is not theirs."""
    if actor is None or actor.is_network_staff or not isinstance(email, str):
        return
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return
    owners = Client.objects.filter(mail_domains__domain=domain).exclude(pk=client.pk)
    if owners.exists():
        raise invalid(
            "email",
            f"The domain {domain} belongs to another client.",
            "an address at your own organisation's domain, or one no other client has",
        )


@transaction.atomic
def create_contact(
    actor,
    client: Client,
    *,
    source: str,
    password: str | None = None,
    with_login: bool = False,
    **data,
) -> Contact:
    """Add a person at the client; with ``with_login`` they can sign in to the portal."""
    require(can_edit_client_data(actor, client), "You may not change this client's data.")
    contact = Contact(client=client, **data)
    contact.full_clean(validate_constraints=False)
    _check_unique_email(client, contact.email)
    _check_domain_is_theirs(actor, client, contact.email)
    if with_login:
        contact.user = accounts.create_user(
            actor,
            username=contact.email.lower(),
            email=contact.email,
            role=ROLE_OF_CONTACT[contact.role],
            password=password,
            first_name=contact.name,
            time_zone=client.time_zone,
            source=source,
        )
    return create_and_record(
        actor,
        contact,
        fields=CONTACT_FIELDS,
        action="contact.create",
        source=source,
        scope=_scope(client),
    )


@transaction.atomic
def give_login(actor, contact: Contact, *, source: str) -> Contact:
    """A sign-in account for a contact who has none (no password: they sign in by link).

    Used when a contact writes by e-mail, so what they send is theirs on the ticket.
    """
    require(can_edit_client_data(actor, contact.client), "You may not change this client's data.")
    # Locked and read again: another process may have given the login meanwhile.
    current = Contact.objects.select_for_update().filter(pk=contact.pk).values("user_id").get()
    if current["user_id"] is not None:
        contact.user_id = current["user_id"]
        return contact
    username = contact.email.lower()[:150]
    if accounts.User.objects.filter(username__iexact=username).exists():
        username = f"{contact.pk}.{username}"[:150]
    contact.user = accounts.create_user(
        actor,
        username=username,
        email=contact.email,
        role=ROLE_OF_CONTACT[contact.role],
        first_name=contact.name[:150],
        time_zone=contact.client.time_zone,
        source=source,
    )
    contact.save(update_fields=["user"])
    record(actor, "contact.login", contact, source=source, scope=_scope(contact.client))
    return contact


@transaction.atomic
def update_contact(actor, contact: Contact, data: dict, *, source: str) -> Contact:
    require(can_edit_client_data(actor, contact.client), "You may not change this client's data.")
    new_login = None
    if "email" in data:
        _check_unique_email(contact.client, data["email"], exclude_pk=contact.pk)
        _check_domain_is_theirs(actor, contact.client, data["email"])
        email = data["email"]
        if contact.user and isinstance(email, str) and email != contact.user.email:
            new_login = email.lower()
            try:
                accounts.check_login_name_free(new_login, exclude=contact.user)
            except ValidationError:
                raise ValidationError(
                    {"email": "Another sign-in account already uses this address."}
                ) from None
    old_role, was_active = contact.role, contact.is_active
    update_and_record(
        actor,
        contact,
        data,
        fields=CONTACT_FIELDS,
        action="contact.update",
        source=source,
        scope=_scope(contact.client),
    )
    if contact.user and contact.role != old_role:
        accounts.set_role(actor, contact.user, ROLE_OF_CONTACT[contact.role], source=source)
    if new_login is not None:
        # Their login is their address: the portal signs them in and mails them by it.
        accounts.change_login(
            actor, contact.user, username=new_login, email=contact.email, source=source
        )
    if contact.user and was_active and not contact.is_active:
        access_lost.lost_access(actor, [contact.user], source=source)
    return contact


# --- assets ------------------------------------------------------------------------------------


@transaction.atomic
def create_asset(
    actor, client: Client, *, source: str, site_id=None, contact_id=None, **data
) -> Asset:
    require(can_edit_client_data(actor, client), "You may not change this client's data.")
    asset = Asset(
        client=client,
        site=find_owned(Site.objects.all(), client, "site", site_id),
        contact=find_owned(Contact.objects.all(), client, "contact", contact_id),
        **data,
    )
    return create_and_record(
        actor,
        asset,
        fields=ASSET_FIELDS,
        action="asset.create",
        source=source,
        scope=_scope(client),
    )


@transaction.atomic
def update_asset(actor, asset: Asset, data: dict, *, source: str) -> Asset:
    require(can_edit_client_data(actor, asset.client), "You may not change this client's data.")
    data = dict(data)
    for field, model in (("site", Site), ("contact", Contact)):
        if f"{field}_id" in data:
            data[field] = find_owned(
                model.objects.all(), asset.client, field, data.pop(f"{field}_id")
            )
    return update_and_record(
        actor,
        asset,
        data,
        fields=ASSET_FIELDS,
        action="asset.update",
        source=source,
        scope=_scope(asset.client),
    )
