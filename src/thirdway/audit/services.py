"""Writing the audit trail: every other app's services call ``record`` for each change.

Inside ``gathering()`` the records are kept and written together, in one statement, when the
block ends (in the same transaction): the mail room processes many messages in a row.  A block
that raises drops what it gathered (its work is rolled back anyway); a block nested in another
hands its records to the outer one.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from thirdway.audit.models import AuditRecord, Source
from thirdway.errors import refuse_nulls


def plain(value: Any) -> Any:
    """A JSON-friendly form of a field value, so before/after survive storage unchanged."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` (foreign keys by id)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = plain(getattr(obj, attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as ``{field: [before, after]}``."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def record(
    actor,
    action: str,
    obj: models.Model,
    *,
    source: str,
    changes: dict[str, list[Any]] | None = None,
    scope: str = "",
) -> AuditRecord:
    """Append one record (now, or with the gathered ones); ``actor`` may be None for the
    system itself."""
    if source not in Source.values:
        raise ValueError(f"Unknown audit source {source!r}; allowed: {', '.join(Source.values)}")
    label = "system" if actor is None else actor.get_username()
    entry = AuditRecord(
        actor=actor,
        actor_label=label,
        source=source,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        scope=scope,
        changes=changes or {},
    )
    gathered = _gathering.get()
    if gathered is None:
        entry.save()
    else:
        gathered.append(entry)  # written when the gathering block ends
    return entry


_gathering: contextvars.ContextVar[list[AuditRecord] | None] = contextvars.ContextVar(
    "audit_gathering", default=None
)


@contextlib.contextmanager
def gathering() -> Iterator[None]:
    """Write the records appended inside together when the block ends (see the module)."""
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


def create_and_record(
    actor,
    obj: models.Model,
    *,
    fields: Iterable[str],
    action: str,
    source: str,
    scope: str | Callable[[models.Model], str] = "",
) -> models.Model:
    """Validate and insert ``obj``, recording the initial values of ``fields``.

    ``scope`` may be a function of the saved object, for scopes that need its new id.
    """
    obj.full_clean()
    obj.save()
    if callable(scope):
        scope = scope(obj)
    record(actor, action, obj, source=source, scope=scope, changes=diff({}, snapshot(obj, fields)))
    return obj


def update_and_record(
    actor,
    obj: models.Model,
    data: dict[str, Any],
    *,
    fields: Iterable[str],
    action: str,
    source: str,
    scope: str = "",
) -> models.Model:
    """Apply ``data`` to ``obj`` when every key is one of ``fields``; validate, save and record.

    Nothing is written when a key is not allowed, a value is None where the field cannot be null,
    or a value is invalid.
    """
    fields = list(fields)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be changed here.", params={"allowed": ", ".join(fields)}
                )
                for name in unknown
            }
        )
    # full_clean lets None through on blank fields, and the database would then refuse it.
    refuse_nulls(
        name for name, value in data.items() if value is None and not obj._meta.get_field(name).null
    )
    before = snapshot(obj, fields)
    for name, value in data.items():
        setattr(obj, name, value)
    obj.full_clean()
    changes = diff(before, snapshot(obj, fields))
    if changes:
        obj.save()
        record(actor, action, obj, source=source, scope=scope, changes=changes)
    return obj
