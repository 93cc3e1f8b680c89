"""Who may see which user accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from thirdway.accounts.models import User


def users_for(user) -> QuerySet[User]:
    """Practice admins see every account; everyone else only their own."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_practice_admin:
        return User.objects.all()
    return User.objects.filter(pk=user.pk)
