"""The base cast built once per test process and written back row for row afterwards.

Building the cast through the services costs about 250 queries (users, practices, partners,
clients, their audit records); written back, it is one multi-row INSERT per table it touched.
A test gets the same rows, with the same keys, as the services made for the first test, and
its own fresh Python objects.

The copy is used only where it is the same as a new build would be:
- the database holds exactly what it held when the copy was taken (the row count of every
  table, read in one query), so nothing a test made before the cast can collide with it;
- "now" is the real time (no test has pinned the clock before asking for the cast), and the
  copy is at most ``MAX_AGE`` old, since its rows carry the time they were made;
- the build added rows only (it changed or removed none that were there before).
Otherwise the cast is built through the services as before, and a copy taken of that build
when the clock is real.  ``THIRDWAY_TESTS_FRESH_CAST=1`` always builds it.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

MAX_AGE = dt.timedelta(seconds=90)
REAL_CLOCK_TOLERANCE = dt.timedelta(seconds=2)


@dataclass
class Snapshot:
    vendor: str
    database: str
    counts: tuple[int, ...]
    taken_at: dt.datetime
    rows: list[tuple[type[models.Model], list[models.Model]]]
    built: Any
    sequences: list[tuple[str, str, str]]  # PostgreSQL: table, key column, its sequence


_snapshot: Snapshot | None = None


def _tables() -> list[type[models.Model]]:
    """Every concrete table the project's models (and their many-to-many tables) have."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]


def _counts(tables: list[type[models.Model]]) -> tuple[int, ...]:
    quote = connection.ops.quote_name
    # Table names from the models, not from input.
    selects = ", ".join(
        f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})"  # noqa: S608
        for m in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}")
        return tuple(cursor.fetchone())


def _clock_is_real() -> bool:
    return abs(timezone.now() - dt.datetime.now(dt.UTC)) <= REAL_CLOCK_TOLERANCE


def _rows_by_key(model: type[models.Model]) -> dict[Any, tuple]:
    return {row[0]: row for row in model._base_manager.values_list("pk", *_columns(model))}


def _columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _restore(snapshot: Snapshot) -> None:
    with transaction.atomic():
        for model, objects in snapshot.rows:
            model._base_manager.bulk_create(copy.deepcopy(objects))
        if snapshot.sequences:
            _move_sequences_past(snapshot.sequences)


def _sequences(tables: list[type[models.Model]]) -> list[tuple[str, str, str]]:
    """PostgreSQL's sequence behind each automatic key of ``tables``."""
    if connection.vendor != "postgresql":
        return []
    found = []
    with connection.cursor() as cursor:
        for model in tables:
            pk = model._meta.pk
            if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            (sequence,) = cursor.fetchone()
            if sequence:
                found.append((model._meta.db_table, pk.column, sequence))
    return found


def _move_sequences_past(sequences: list[tuple[str, str, str]]) -> None:
    """Rows written with their keys do not move PostgreSQL's sequences: move them past."""
    quote = connection.ops.quote_name
    calls = ", ".join(
        f"setval('{sequence}', GREATEST((SELECT MAX({quote(column)}) FROM {quote(table)}), "  # noqa: S608
        f"(SELECT last_value FROM {sequence})))"
        for table, column, sequence in sequences
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + calls)


def cast(build: Callable[[], Any]) -> Any:
    """The cast ``build`` makes, from the process's copy where it is the same as a new build."""
    global _snapshot
    if os.environ.get("THIRDWAY_TESTS_FRESH_CAST") == "1":
        return build()
    tables = _tables()
    counts = _counts(tables)
    clock_is_real = _clock_is_real()
    now = dt.datetime.now(dt.UTC)
    snapshot = _snapshot
    if (
        snapshot is not None
        and clock_is_real
        and snapshot.vendor == connection.vendor
        and snapshot.database == connection.settings_dict["NAME"]
        and snapshot.counts == counts
        and now - snapshot.taken_at <= MAX_AGE
    ):
        _restore(snapshot)
        return copy.deepcopy(snapshot.built)
    if not clock_is_real:
        return build()
    before = {model: _rows_by_key(model) for model in tables}
    taken_at = dt.datetime.now(dt.UTC)
    built = build()
    rows: list[tuple[type[models.Model], list[models.Model]]] = []
    for model in tables:
        after = _rows_by_key(model)
        old = before[model]
        if any(key not in after or after[key] != row for key, row in old.items()):
            return built  # the build changed rows it found: no copy of it
        new_keys = [key for key in after if key not in old]
        if new_keys:
            objects = list(model._base_manager.filter(pk__in=new_keys).order_by("pk"))
            rows.append((model, objects))
    _snapshot = Snapshot(
        vendor=connection.vendor,
        database=connection.settings_dict["NAME"],
        counts=counts,
        taken_at=taken_at,
        rows=rows,
        built=copy.deepcopy(built),
        sequences=_sequences([model for model, _ in rows]),
    )
    return built
