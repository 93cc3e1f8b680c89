"""Who sees what of the vault (deny by default).

- The network sees a client's credentials, pages and expirations when it sees the client
  (``Client.objects.for_user``); it reveals the credentials it sees.
- A client admin sees the credentials shared with the client's admins, the pages shown to
  admins or to all contacts, and the client's expirations (those of files aside: a file's
  expiry is seen with the file, under the folder rule of ``file_access``).
- A client user sees only the pages shown to all contacts.
- Anyone else sees nothing.
"""

from __future__ import annotations

from django.db import models

from thirdway.accounts.models import Role


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _contact_client_id(user) -> int | None:
    contact = getattr(user, "contact", None)
    return contact.client_id if contact is not None and contact.is_active else None


def _served(user):
    from thirdway.clients.models import Client

    return Client.objects.for_user(user)


class _VaultQuerySet(models.QuerySet):
    def _for_contact(self, user, client_id: int):
        return self.none()

    def for_user(self, user):
        if not _active(user):
            return self.none()
        if user.is_network_staff:
            return self.filter(client__in=_served(user))
        client_id = _contact_client_id(user) if user.is_client_contact else None
        return self._for_contact(user, client_id) if client_id else self.none()


class CredentialQuerySet(_VaultQuerySet):
    def _for_contact(self, user, client_id):
        if user.role != Role.CLIENT_ADMIN:
            return self.none()
        return self.filter(client_id=client_id, shared_with_client_admins=True)


class DocumentQuerySet(_VaultQuerySet):
    def _for_contact(self, user, client_id):
        shown = ["client_contacts"]
        if user.role == Role.CLIENT_ADMIN:
            shown.append("client_admins")
        return self.filter(client_id=client_id, visibility__in=shown)


class ExpiryItemQuerySet(_VaultQuerySet):
    def _for_contact(self, user, client_id):
        if user.role != Role.CLIENT_ADMIN:
            return self.none()
        # A file's expiry follows the file's folder rule: shown on the file, not here.
        return self.filter(client_id=client_id).exclude(kind="file")


def can_keep(user, client) -> bool:
    """Add and change a client's credentials, pages and expirations: the network members who
    may change the client's data (practice admins, the desk, its partners)."""
    from thirdway.clients.access import can_edit_client_data

    return user.is_network_staff and can_edit_client_data(user, client)


def can_reveal(user, credential) -> bool:
    """Reveal a credential: whoever sees it (the rule above), and is active."""
    return type(credential).objects.for_user(user).filter(pk=credential.pk).exists()
