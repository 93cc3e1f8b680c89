"""The one way an id that arrived in a payload becomes an object: :func:`find_visible`.

Services call it with a queryset already narrowed to what the actor may see (:func:`visible`,
a client's own rows); an id outside it is a 400 naming the field and what is allowed, never a
hint that the object exists.  Imports Django and nothing of ours.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from thirdway.errors import invalid


def visible(model: Any, actor: Any) -> QuerySet[Any]:
    """The rows of ``model`` the actor may see: its ``for_user`` rule, or every row for
    Thirdway itself (``None``: the worker, the clock, the command line)."""
    rows: QuerySet[Any] = model.objects.all()
    return rows if actor is None else rows.for_user(actor)  # type: ignore[attr-defined]


def find_visible(
    queryset: QuerySet[Any],
    field: str,
    pk: Any,
    *,
    where: str = "",
    noun: str = "",
    allowed: str = "",
) -> Any:
    """The object of ``queryset`` with id ``pk`` (None when ``pk`` is None), or a 400.

    ``where`` narrows the message (" at this client"), ``noun`` replaces the model's name
    ("active partner"), ``allowed`` replaces what the message offers instead."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        noun = noun or str(queryset.model._meta.verbose_name)
        raise invalid(
            field,
            f"No {noun} with id {pk}{where}.",
            allowed or f"the id of a {noun}{where} you can see",
        )
    return found


def find_owned(queryset: QuerySet[Any], client: Any, field: str, pk: Any) -> Any:
    """One of ``client``'s own rows in ``queryset`` (site, contact, asset) by id, or a 400."""
    noun = queryset.model._meta.verbose_name
    return find_visible(
        queryset.filter(client=client),
        field,
        pk,
        where=" at this client",
        allowed=f"the id of one of its {noun}s",
    )
