"""What a person revealed and is still unchanged: the secrets to change when they leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Max, Q

from thirdway.accounts.models import User
from thirdway.vault.models import Credential, CredentialAccess, RotationReminder


@dataclass
class AtRisk:
    credential: Credential
    last_revealed_at: datetime
    reminder: RotationReminder | None = None  # the rotation ticket, once they lost access


def people_who_revealed(viewer) -> list[User]:
    """Everyone who revealed a credential the viewer sees."""
    seen = Credential.objects.for_user(viewer)
    ids = CredentialAccess.objects.filter(credential__in=seen).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def accessed_and_unchanged(viewer, person: User) -> list[AtRisk]:
    """The credentials (that the viewer sees) ``person`` revealed whose secret has not changed
    since their last reveal, the longest-exposed first."""
    rows = (
        Credential.objects.for_user(viewer)
        .filter(accesses__user=person)
        .annotate(last_revealed_at=Max("accesses__at"))
        .filter(Q(secret_changed_at__isnull=True) | Q(secret_changed_at__lte=F("last_revealed_at")))
        .select_related("client")
        .order_by("last_revealed_at", "pk")
    )
    reminders = {
        r.client_id: r
        for r in RotationReminder.objects.filter(person=person).select_related("ticket")
    }
    return [AtRisk(row, row.last_revealed_at, reminders.get(row.client_id)) for row in rows]
