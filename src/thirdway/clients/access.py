"""Who sees which clients, sites, contacts and assets (deny by default).

- Practice admins and the desk see every client's service data.
- A partner sees the clients they lead or serve (are on the team of).
- An associate sees only the clients they are assigned to (on the team of).
- A client admin sees their organisation; a client user sees their organisation's name, their
  own contact record and the assets they use.
- Anyone else sees nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from thirdway.accounts.models import Role

SEES_ALL = {Role.PRACTICE_ADMIN, Role.DESK}


def _visible_client_ids(user, model) -> models.QuerySet | None:
    """The ids of the clients a member of the network may see; None means all of them.

    A partner's are a UNION of the two indexed look-ups (clients they lead, teams they are on):
    an OR across the team join makes the database read every client.
    """
    if user.role in SEES_ALL:
        return None
    served = model.team.through.objects.filter(partner__user=user).values("client_id")
    if user.role == Role.PARTNER:
        led = model.objects.filter(lead_partner__user=user).values("pk")
        return led.order_by().union(served.order_by())
    if user.role == Role.ASSOCIATE:
        return served
    return model.objects.none().values("pk")


def _contact_client_id(user) -> int | None:
    contact = getattr(user, "contact", None)
    return contact.client_id if contact is not None and contact.is_active else None


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


class ClientQuerySet(models.QuerySet):
    def for_user(self, user) -> ClientQuerySet:
        if not _active(user):
            return self.none()
        if user.is_network_staff:
            ids = _visible_client_ids(user, self.model)
            return self.all() if ids is None else self.filter(pk__in=ids)
        client_id = _contact_client_id(user) if user.is_client_contact else None
        return self.filter(pk=client_id) if client_id else self.none()


class _OwnedByClientQuerySet(models.QuerySet):
    """Sites, contacts and assets: the network sees them through the client they belong to, a
    client admin their organisation's, a client user only their own (``client_user_lookup``
    names the relation to them; None: nothing)."""

    client_user_lookup: str | None = None

    def for_user(self, user):
        from thirdway.clients.models import Client

        if not _active(user):
            return self.none()
        if user.is_network_staff:
            return self.filter(client__in=Client.objects.for_user(user))
        client_id = _contact_client_id(user)
        if client_id and user.role == Role.CLIENT_ADMIN:
            return self.filter(client_id=client_id)
        if client_id and user.role == Role.CLIENT_USER and self.client_user_lookup:
            return self.filter(**{self.client_user_lookup: user})
        return self.none()


class SiteQuerySet(_OwnedByClientQuerySet):
    client_user_lookup = None


class ContactQuerySet(_OwnedByClientQuerySet):
    client_user_lookup = "user"

    def with_email(self, address: str | None) -> ContactQuerySet:
        """Contacts at ``address``, in any case (read through the index of lower-cased
        addresses, where ``email__iexact`` reads every contact)."""
        if not isinstance(address, str) or not address:
            return self.none()  # no address (a payload's null is refused by validation)
        return self.alias(email_lower=Lower("email")).filter(email_lower=address.lower())


class AssetQuerySet(_OwnedByClientQuerySet):
    client_user_lookup = "contact__user"


def can_edit_client(user, client) -> bool:
    """Change the client record itself: practice admins and its lead partner."""
    return user.is_practice_admin or (
        user.role == Role.PARTNER
        and client.lead_partner_id is not None
        and client.lead_partner.user_id == user.pk
    )


def can_edit_client_data(user, client) -> bool:
    """Add or change sites, contacts and assets of a client the user can see."""
    if user.role in SEES_ALL:
        return user.is_active
    if user.role == Role.PARTNER:
        return type(client).objects.for_user(user).filter(pk=client.pk).exists()
    if user.role == Role.CLIENT_ADMIN:
        return _contact_client_id(user) == client.pk
    return False
