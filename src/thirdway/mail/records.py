"""The mail room's own audit records (those it makes as the system, with no person acting),
written several to a statement.

Receipt and processing append a record for each message they store, process or queue; inside
``gathering()`` they are kept and written together when the block ends, in the same
transaction, with the fields ``audit.services.record`` gives them.  A block that raises
drops what it gathered (its savepoint is rolled back anyway); one nested in another hands its
records to the outer block.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import models

from thirdway.audit.models import AuditRecord, Source

_gathering: contextvars.ContextVar[list[AuditRecord] | None] = contextvars.ContextVar(
    "gathering_records", default=None
)


def system(action: str, obj: models.Model, *, scope: str = "", changes: dict | None = None) -> None:
    """Append one record made by the system itself (now, or with the gathered ones)."""
    entry = AuditRecord(
        actor=None,
        actor_label="system",
        source=Source.SYSTEM,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        scope=scope,
        changes=changes or {},
    )
    gathered = _gathering.get()
    if gathered is not None:
        gathered.append(entry)
    else:
        entry.save()


@contextlib.contextmanager
def gathering() -> Iterator[None]:
    outer = _gathering.get()
    gathered: list[AuditRecord] = []
    token = _gathering.set(gathered)
    try:
        yield
    finally:
        _gathering.reset(token)
    if outer is not None:
        outer.extend(gathered)
    elif gathered:
        AuditRecord.objects.bulk_create(gathered)
