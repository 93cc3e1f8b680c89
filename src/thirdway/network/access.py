"""Who sees which practices, partners and absences (deny by default).

- The network (practice admins, partners, associates, desk) sees the whole directory.
- A client contact sees the partners who lead or serve their organisation, and the practices.
- Absences are seen by the network only.
- Anyone else sees nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def _active_contact(user) -> bool:
    """A client contact whose contact record is still active (a deactivated one sees nothing)."""
    if not user.is_client_contact:
        return False
    contact = getattr(user, "contact", None)
    return contact is not None and contact.is_active


class PracticeQuerySet(models.QuerySet):
    def for_user(self, user) -> PracticeQuerySet:
        if user.is_authenticated and (user.is_network_staff or _active_contact(user)):
            return self.all()
        return self.none()


class PartnerQuerySet(models.QuerySet):
    def for_user(self, user) -> PartnerQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_network_staff:
            return self.all()
        if _active_contact(user):
            # Related names declared by clients.Client; no import, so the dependency stays one-way.
            mine = Q(led_clients__contacts__user=user) | Q(served_clients__contacts__user=user)
            return self.filter(pk__in=self.model.objects.filter(mine).values("pk"))
        return self.none()


class AbsenceQuerySet(models.QuerySet):
    def for_user(self, user) -> AbsenceQuerySet:
        if user.is_authenticated and user.is_network_staff:
            return self.all()
        return self.none()

    def overlapping(self, starts_at, ends_at) -> AbsenceQuerySet:
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def current(self, at) -> AbsenceQuerySet:
        return self.filter(starts_at__lte=at, ends_at__gt=at)
