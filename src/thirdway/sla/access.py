"""Who sees service-level settings: the whole network reads them; nobody else sees them."""

from __future__ import annotations

from django.db import models


def _network(user) -> bool:
    return bool(user.is_authenticated and user.is_network_staff)


class CalendarQuerySet(models.QuerySet):
    def for_user(self, user) -> CalendarQuerySet:
        return self.all() if _network(user) else self.none()


class PolicyQuerySet(models.QuerySet):
    def for_user(self, user) -> PolicyQuerySet:
        return self.all() if _network(user) else self.none()
