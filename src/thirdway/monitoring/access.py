"""Who sees and who changes what is monitored (deny by default).

- The network sees the checks, alerts and windows of the clients it sees (``clients.access``).
- A client admin sees their organisation's (read only); client users and anyone else, nothing.
- Practice admins, the desk and a partner serving the client change checks and windows; only a
  practice admin lets a check reach a private or loopback address.
"""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role
from thirdway.clients.access import SEES_ALL


def _visible_clients(user):
    from thirdway.clients.models import Client

    return Client.objects.for_user(user)


def sees_monitoring(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_network_staff or user.role == Role.CLIENT_ADMIN


def monitored_clients(user):
    """The clients whose monitoring ``user`` sees (client users: none)."""
    from thirdway.clients.models import Client

    if not sees_monitoring(user):
        return Client.objects.none()
    return Client.objects.for_user(user)


class ClientOwnedQuerySet(models.QuerySet):
    """Rows with a ``client``: visible through the client, to the network and client admins."""

    client_path = "client"

    def for_user(self, user):
        if not sees_monitoring(user):
            return self.none()
        return self.filter(**{f"{self.client_path}__in": _visible_clients(user)})


class CheckQuerySet(ClientOwnedQuerySet):
    pass


class AlertQuerySet(ClientOwnedQuerySet):
    pass


class CheckEventQuerySet(ClientOwnedQuerySet):
    client_path = "check_obj__client"


class AssetChangeQuerySet(ClientOwnedQuerySet):
    client_path = "asset__client"


class ScriptQuerySet(models.QuerySet):
    """Scripts of the library: practice admins and the desk see all; a partner or associate
    sees those of the practices they have a skill in; anyone else, none."""

    def for_user(self, user):
        if not (user.is_authenticated and user.is_network_staff):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        return self.filter(practice__skills__partner__user=user).distinct()


def can_write_scripts(user) -> bool:
    """Add and edit scripts of the library: practice admins and the desk."""
    return user.is_authenticated and user.is_active and user.role in SEES_ALL


def can_manage(user, client) -> bool:
    """Add, change, pause and delete checks and windows of ``client``."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.role in SEES_ALL:
        return True
    if user.role == Role.PARTNER:
        return _visible_clients(user).filter(pk=client.pk).exists()
    return False


def can_allow_private(user) -> bool:
    return user.is_authenticated and user.is_practice_admin
