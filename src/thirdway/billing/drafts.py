"""The month-end run's drafts and their lines, inserted as plain rows.

A run of 50,000 clients makes 50,000 drafts and 150,000 lines: as model instances, their
building and ``bulk_create`` cost more than the database's insert.  Here each is a tuple of
column values; on PostgreSQL a chunk goes in one ``INSERT … SELECT FROM unnest`` of one array
per column, as the ledger's legs do.  What is inserted is what ``invoicing._bill_new`` inserted
as models, column for column.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from thirdway.billing import row_arrays
from thirdway.billing.engine import to_money
from thirdway.billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceState, TimeEntry

# Rows per INSERT on SQLite, within its 32,766 parameters (14 columns a line).
ROWS_PER_INSERT = 2000

# The array type of each kind of column on PostgreSQL; JSON goes as text and is cast per row.
_ARRAY_OF = {
    "AutoField": "bigint",
    "BigAutoField": "bigint",
    "ForeignKey": "bigint",
    "IntegerField": "integer",
    "PositiveIntegerField": "integer",
    "CharField": "text",
    "DecimalField": "numeric",
    "DateField": "date",
    "DateTimeField": "timestamptz",
    "JSONField": "text",
}
_NUMBERS = {"bigint", "integer", "numeric"}


def insert_rows(model: type[models.Model], names: Sequence[str], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (one value per column of ``names``, as Python values) into ``model``'s
    table; their ids, in the order of the rows (ids are taken in the order the rows are
    inserted, whatever order RETURNING reads them back in)."""
    ids: list[int] = []
    step = len(rows) if connection.vendor == "postgresql" else ROWS_PER_INSERT
    for start in range(0, len(rows), max(step, 1)):
        ids += _insert(model, names, rows[start : start + step])
    return ids


def _prepared(model, names: Sequence[str], rows: list[tuple]) -> list[list]:
    """The rows as the database takes them, column by column (dates and JSON through their
    field, as the model's own save would send them)."""
    columns = []
    for n, name in enumerate(names):
        field = model._meta.get_field(name.removesuffix("_id"))
        values = [row[n] for row in rows]
        kind = field.get_internal_type()
        if kind == "JSONField":
            values = [None if v is None else json.dumps(v) for v in values]
        elif kind in ("DateField", "DateTimeField"):
            values = [field.get_db_prep_value(v, connection) for v in values]
        columns.append(values)
    return columns


def _insert(model, names: Sequence[str], rows: list[tuple]) -> list[int]:
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(name) for name in names)
    prepared = _prepared(model, names, rows)
    returning = f"RETURNING {ops.quote_name('id')}"
    if connection.vendor == "postgresql":
        kinds = [model._meta.get_field(n.removesuffix("_id")).get_internal_type() for n in names]
        arrays = ", ".join(f"%s::{_ARRAY_OF[kind]}[]" for kind in kinds)
        aliases = [f"c{n}" for n in range(len(names))]
        picked = ", ".join(
            f"t.{alias}::jsonb" if kind == "JSONField" else f"t.{alias}"
            for alias, kind in zip(aliases, kinds, strict=True)
        )
        insert = (
            f"INSERT INTO {table} ({columns}) SELECT {picked} "  # noqa: S608
            f"FROM unnest({arrays}) WITH ORDINALITY AS t({', '.join(aliases)}, n) "
            f"ORDER BY t.n {returning}"
        )
        params: list = [
            row_arrays.numbers(values) if _ARRAY_OF[kind] in _NUMBERS else row_arrays.texts(values)
            for kind, values in zip(kinds, prepared, strict=True)
        ]
    else:
        one = "(" + ", ".join(["%s"] * len(names)) + ")"
        insert = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(rows))} {returning}"  # noqa: S608
        )
        params = [value for row in zip(*prepared, strict=True) for value in row]
    with connection.cursor() as cursor:
        cursor.execute(insert, params)
        return sorted(row[0] for row in cursor.fetchall())


INVOICE_COLUMNS = (
    "client_id",
    "practice_id",
    "kind",
    "state",
    "currency",
    "month",
    "net",
    "tax",
    "gross",
    "run_id",
    "created_at",
)
LINE_COLUMNS = (
    "invoice_id",
    "contract_line_id",
    "description",
    "quantity",
    "unit_price",
    "net",
    "vat_category",
    "vat_rate",
    "quantity_source",
    "counted",
    "claim",
    "period_start",
    "period_end",
    "after_hours_minutes",
)


def insert_drafts(run, currency: str, drafts: list[tuple[int, tuple[Decimal, Decimal, Decimal]]]):
    """Insert the run's drafts, (client id, (net, tax, gross)) each; their ids, in order."""
    now = timezone.now()
    rows = [
        (
            client_id,
            run.practice_id,
            InvoiceKind.INVOICE.value,
            InvoiceState.DRAFT.value,
            currency,
            run.month,
            *totals,
            run.pk,
            now,
        )
        for client_id, totals in drafts
    ]
    return insert_rows(Invoice, INVOICE_COLUMNS, rows)


def insert_lines(rows: list[tuple]) -> list[int]:
    """Insert invoice lines, one tuple of ``LINE_COLUMNS`` each; their ids, in order."""
    return insert_rows(InvoiceLine, LINE_COLUMNS, rows)


def line_row(proposed, category: str, rate: Decimal) -> tuple:
    """A proposed line (``proposals.Proposed``) taxed at ``category`` and ``rate``, as the
    columns of ``LINE_COLUMNS`` but its invoice's."""
    period = proposed.period or (None, None)
    return (
        proposed.contract_line.pk if proposed.contract_line is not None else None,
        proposed.description[:250],
        proposed.quantity,
        proposed.unit_price,
        proposed.net,
        category,
        rate,
        proposed.source[:500],
        proposed.counted,
        proposed.claim,
        *period,
        proposed.after_hours_minutes,
    )


def totals_of(rows: list[tuple]) -> tuple[Decimal, Decimal, Decimal]:
    """Net, tax and gross of a draft's line rows, as ``invoicing.vat_breakdown`` counts them:
    the tax once per category and rate, on its base."""
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for row in rows:
        bases[(row[5], row[6])] += row[4]
    net = sum(bases.values(), Decimal("0.00"))
    tax = sum((to_money(base * rate / 100) for (_, rate), base in bases.items()), Decimal("0.00"))
    return net, tax, net + tax


def claim_time(name: str, whose: dict[int, int]) -> int:
    """Point each time entry of ``whose`` (entry id: line id) still unclaimed by ``name``
    (``invoice_line`` or ``after_hours_line``) at its line, in one update; how many were.  On
    PostgreSQL the pairs are two arrays joined by id (a ``CASE`` of thousands of branches costs
    the server a comparison per branch and row)."""
    if connection.vendor != "postgresql":
        free = TimeEntry.objects.filter(pk__in=list(whose), **{f"{name}__isnull": True})
        return free.update(**{name: by_id("id", whose)})
    quote = connection.ops.quote_name
    table = quote(TimeEntry._meta.db_table)
    column = quote(TimeEntry._meta.get_field(name).column)
    update = (
        f"UPDATE {table} SET {column} = v.line FROM unnest(%s::bigint[], %s::bigint[]) "  # noqa: S608
        f"AS v(id, line) WHERE {table}.{quote('id')} = v.id AND {table}.{column} IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(update, [row_arrays.numbers(whose), row_arrays.numbers(whose.values())])
        return cursor.rowcount


def by_id(column: str, values: dict[int, object]) -> RawSQL:
    """``CASE id WHEN 1 THEN a WHEN 2 THEN b ... END``: one value per row in one UPDATE, without
    building an expression per row (Django's ``Case``/``When`` costs far more per row than the
    database does)."""
    cases = " ".join("WHEN %s THEN %s" for _ in values)
    params = [item for pair in values.items() for item in pair]
    # the column a name of ours, every value a parameter
    return RawSQL(f"CASE {connection.ops.quote_name(column)} {cases} END", params)  # noqa: S611
