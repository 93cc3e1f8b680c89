"""Keyset paging: read on after the last row seen instead of skipping ``offset`` rows.

An offset makes the database read and drop every row before the page, so page 1,000 of a
large list costs a thousand pages.  A cursor holds the sort values of the last row given; the
next page is the rows that sort after them, which an index on the sort finds directly.  Rows
added or changed meanwhile neither repeat nor push others off a page, as they can with offsets.

A list can be paged this way when its ordering is explicit, names plain fields and ends with
the primary key (so no two rows tie).  A nullable field must say where its nulls go.

The cursor is opaque to the caller: URL-safe base64 of a JSON list, the ordering it was made
for followed by the values.  It is not signed: it only says where to start, and the rows are
still those the caller may see; a cursor made for another ordering is refused.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, OrderBy, Q, QuerySet

from thirdway.errors import invalid

FIELD = "after"
ALLOWED = "a next_after value answered by this list with the same filters and sort"
# A cursor of any ordering the lists have fits in far less.
MAX_CURSOR = 512


@dataclass(frozen=True)
class Key:
    """One term of an ordering: the field, its direction, and where its nulls go."""

    field: str
    descending: bool
    nulls_last: bool | None  # None: the field holds no nulls

    @property
    def spelled(self) -> str:
        spelled = ("-" if self.descending else "") + self.field
        if self.nulls_last is not None:
            spelled += " nulls last" if self.nulls_last else " nulls first"
        return spelled


def ordering(queryset: QuerySet[Any]) -> list[Key] | None:
    """The ordering of ``queryset`` as keys, or None when it cannot be paged by a cursor."""
    meta = queryset.model._meta
    keys = []
    for term in queryset.query.order_by:
        if isinstance(term, str):
            name, descending, nulls_last = term.lstrip("-"), term.startswith("-"), None
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            name, descending = term.expression.name, term.descending
            nulls_last = True if term.nulls_last else False if term.nulls_first else None
        else:
            return None
        name = meta.pk.name if name == "pk" else name
        try:
            field = meta.get_field(name)
        except Exception:
            return None
        if getattr(field, "concrete", False) is False or getattr(field, "is_relation", False):
            return None
        if field.null and nulls_last is None:
            return None  # where the nulls go differs between databases
        keys.append(Key(name, descending, nulls_last if field.null else None))
    if not keys or keys[-1].field != meta.pk.name:
        return None
    return keys


def cursor_after(queryset: QuerySet[Any], row: Any) -> str | None:
    """The cursor that reads on after ``row`` in ``queryset``'s ordering."""
    keys = ordering(queryset)
    if keys is None:
        return None
    values = [_plain(getattr(row, key.field)) for key in keys]
    text = json.dumps([[key.spelled for key in keys], *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def rows_after(queryset: QuerySet[Any], cursor: str) -> QuerySet[Any]:
    """The rows of ``queryset`` that sort after the row ``cursor`` was made from; a cursor
    that is malformed, or made for another ordering, is refused naming ``after``."""
    keys = ordering(queryset)
    if keys is None:
        raise invalid(FIELD, "This list cannot be read on with after; use offset.", "offset")
    values = _read(cursor, keys, queryset)
    return queryset.filter(_beyond(keys, values))


def _read(cursor: str, keys: list[Key], queryset: QuerySet[Any]) -> list[Any]:
    refused = invalid(FIELD, "This is not a cursor of this list.", ALLOWED)
    if len(cursor) > MAX_CURSOR:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        spelled, *raw = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise refused from None
    if spelled != [key.spelled for key in keys]:
        raise invalid(
            FIELD,
            "This cursor was made for another sort; start again without after.",
            ALLOWED,
        )
    if len(raw) != len(keys):
        raise refused
    meta = queryset.model._meta
    values: list[Any] = []
    for key, value in zip(keys, raw, strict=True):
        if value is None:
            if key.nulls_last is None:
                raise refused
            values.append(None)
            continue
        if not isinstance(value, (str, int)):
            raise refused
        try:
            values.append(meta.get_field(key.field).to_python(value))
        except ValidationError:
            raise refused from None
    return values


def _beyond(keys: list[Key], values: list[Any]) -> Q:
    """Rows after ``values``: equal on the first terms and past it on the next, for each
    term in turn.  The first term is also given as a range on its own, which an index on the
    sort can seek to."""
    either = Q(pk__in=[])
    for index, (key, value) in enumerate(zip(keys, values, strict=True)):
        past = _past(key, value)
        if past is not None:
            same = Q()
            for earlier, earlier_value in zip(keys[:index], values[:index], strict=True):
                same &= _equal(earlier, earlier_value)
            either |= same & past
    first, first_value = keys[0], values[0]
    if first_value is not None and first.nulls_last is None:
        lookup = "lte" if first.descending else "gte"
        either &= Q(**{f"{first.field}__{lookup}": first_value})
    return either


def _past(key: Key, value: Any) -> Q | None:
    beyond = Q(**{f"{key.field}__{'lt' if key.descending else 'gt'}": value})
    if key.nulls_last is None:
        return beyond
    if value is None:
        # Among the nulls: past them come the others if they go first, nothing if last.
        return None if key.nulls_last else Q(**{f"{key.field}__isnull": False})
    return beyond | Q(**{f"{key.field}__isnull": True}) if key.nulls_last else beyond


def _equal(key: Key, value: Any) -> Q:
    if value is None:
        return Q(**{f"{key.field}__isnull": True})
    return Q(**{key.field: value})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)
