"""Who sees which figures (deny by default).

- Practice admins and the desk see every rating and every snapshot.
- A partner or associate sees the ratings and client figures of the clients they see
  (``Client.for_user``), ratings of their own work, and their own partner figures.
- A client admin sees their organisation's ratings and client figures; a client user only the
  ratings they gave.
- Practice figures are for the practice admins and the desk; a partner's scorecard shows them
  only as the practice's median.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from thirdway.accounts.models import Role

SEES_ALL = {Role.PRACTICE_ADMIN, Role.DESK}


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _contact(user):
    contact = getattr(user, "contact", None)
    return contact if contact is not None and contact.is_active else None


def _partner_id(user) -> int | None:
    from thirdway.network.models import Partner

    return Partner.objects.filter(user=user).values_list("pk", flat=True).first()


def _client_ids(user):
    from thirdway.clients.models import Client

    return Client.objects.for_user(user).values("pk")


class CsatQuerySet(models.QuerySet):
    def for_user(self, user) -> CsatQuerySet:
        if not _active(user):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            rule = Q(client_id__in=_client_ids(user))
            partner_id = _partner_id(user)
            return self.filter(rule | Q(partner_id=partner_id) if partner_id else rule)
        contact = _contact(user)
        if contact is None:
            return self.none()
        if user.role == Role.CLIENT_ADMIN:
            return self.filter(client_id=contact.client_id)
        if user.role == Role.CLIENT_USER:
            return self.filter(contact_id=contact.pk)
        return self.none()


class SnapshotQuerySet(models.QuerySet):
    def for_user(self, user) -> SnapshotQuerySet:
        if not _active(user):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            partner_id = _partner_id(user)
            rule = Q(scope="client", client_id__in=_client_ids(user))
            if partner_id:
                rule |= Q(scope="partner", partner_id=partner_id)
            return self.filter(rule)
        contact = _contact(user)
        if contact is not None and user.role == Role.CLIENT_ADMIN:
            return self.filter(scope="client", client_id=contact.client_id)
        return self.none()


class ReportQuerySet(models.QuerySet):
    """Client reports: practice admins and the desk see all; partners and associates those of
    the clients they see (drafts included: they preview them); a client admin their own
    organisation's released reports; nobody else any."""

    def for_user(self, user) -> ReportQuerySet:
        if not _active(user):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(client_id__in=_client_ids(user))
        contact = _contact(user)
        if contact is not None and user.role == Role.CLIENT_ADMIN:
            return self.filter(client_id=contact.client_id, status="released")
        return self.none()


class NpsQuerySet(models.QuerySet):
    """Net promoter answers: practice admins and the desk see all; partners and associates
    those of the clients they see; a client admin their organisation's; a client user their
    own; nobody else any."""

    def for_user(self, user) -> NpsQuerySet:
        if not _active(user):
            return self.none()
        if user.role in SEES_ALL:
            return self.all()
        if user.role in (Role.PARTNER, Role.ASSOCIATE):
            return self.filter(client_id__in=_client_ids(user))
        contact = _contact(user)
        if contact is None:
            return self.none()
        if user.role == Role.CLIENT_ADMIN:
            return self.filter(client_id=contact.client_id)
        if user.role == Role.CLIENT_USER:
            return self.filter(contact_id=contact.pk)
        return self.none()
