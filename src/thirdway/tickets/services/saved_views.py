"""A person's saved queue views: their own, audited like every other change."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import record
from thirdway.tickets.models import SavedView


@transaction.atomic
def save_view(user, name: str, query: str, *, source: str) -> SavedView:
    """Keep (or replace) the person's view of that name."""
    before = SavedView.objects.filter(user=user, name=name).first()
    view, created = SavedView.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    changes = {"query": [before.query if before else None, view.query]}
    if created:
        changes["name"] = [None, view.name]
    action = "saved_view.create" if created else "saved_view.update"
    record(user, action, view, source=source, changes=changes)
    return view


@transaction.atomic
def delete_view(user, view: SavedView, *, source: str) -> None:
    """Forget one of the person's own views."""
    if view.user_id != user.pk:
        raise PermissionError("A saved view belongs to its owner only.")
    record(
        user,
        "saved_view.delete",
        view,
        source=source,
        changes={"name": [view.name, None], "query": [view.query, None]},
    )
    view.delete()
