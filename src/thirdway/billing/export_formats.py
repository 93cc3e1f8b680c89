"""The three accounting files an export batch is written as: QuickBooks Online's invoice
import CSV, Xero's sales invoice import CSV and DATEV's EXTF booking batch
("Buchungsstapel").  Pure: documents and the account mapping in, bytes out; no Django."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

QUICKBOOKS_COLUMNS = (
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "Currency",
)
XERO_COLUMNS = (
    "*ContactName",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "*AccountCode",
    "*TaxType",
    "Currency",
)
DATEV_COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
)


@dataclass(frozen=True)
class Mapping:
    """Where the bookings go: the receivables account, and per VAT category (S, Z, E, AE) the
    revenue account and the tax code."""

    receivable: str
    revenue: dict[str, str]
    tax_code: dict[str, str]
    datev_consultant: int = 1001
    datev_client: int = 1
    account_length: int = 4


@dataclass(frozen=True)
class DocLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    vat_category: str


@dataclass(frozen=True)
class Doc:
    """An invoice (or credit note, ``credit=True``) as the files need it; ``groups`` is its
    (VAT category, rate, base, tax) breakdown."""

    number: str
    credit: bool
    customer: str
    issued_on: dt.date
    due_on: dt.date
    currency: str
    lines: Sequence[DocLine]
    groups: Sequence[tuple[str, Decimal, Decimal, Decimal]]


def _sign(doc: Doc, amount: Decimal) -> Decimal:
    return -amount if doc.credit else amount


def _dot(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _dmy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _csv(header: Sequence[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def quickbooks(docs: Sequence[Doc], mapping: Mapping) -> bytes:
    """One row per invoice line; a credit note's quantities and amounts are negative."""
    rows = [
        [
            doc.number,
            doc.customer,
            _dmy(doc.issued_on),
            _dmy(doc.due_on),
            "Credit note" if doc.credit else "",
            mapping.revenue[line.vat_category],
            line.description,
            _dot(_sign(doc, line.quantity)),
            _dot(line.unit_price),
            _dot(_sign(doc, line.net)),
            mapping.tax_code[line.vat_category],
            doc.currency,
        ]
        for doc in docs
        for line in doc.lines
    ]
    return _csv(QUICKBOOKS_COLUMNS, rows)


def xero(docs: Sequence[Doc], mapping: Mapping) -> bytes:
    """One row per invoice line, amounts tax exclusive; a credit note's quantities are
    negative, so Xero imports it as a credit note."""
    rows = [
        [
            doc.customer,
            doc.number,
            "Credit note" if doc.credit else "",
            _dmy(doc.issued_on),
            _dmy(doc.due_on),
            line.description,
            _dot(_sign(doc, line.quantity)),
            _dot(line.unit_price),
            mapping.revenue[line.vat_category],
            mapping.tax_code[line.vat_category],
            doc.currency,
        ]
        for doc in docs
        for line in doc.lines
    ]
    return _csv(XERO_COLUMNS, rows)


def _comma(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _quoted(text: str, limit: int) -> str:
    return '"' + text.replace('"', "'")[:limit] + '"'


def datev_header(month: dt.date, mapping: Mapping, made_at: dt.datetime, currency: str) -> str:
    """The EXTF header line: format version 700, category 21 (booking batch), version 13."""
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    fields = [
        '"EXTF"',
        "700",
        "21",
        '"Buchungsstapel"',
        "13",
        made_at.strftime("%Y%m%d%H%M%S") + f"{made_at.microsecond // 1000:03d}",
        "",
        '"TW"',
        '""',
        '""',
        str(mapping.datev_consultant),
        str(mapping.datev_client),
        f"{month.year}0101",
        str(mapping.account_length),
        f"{month:%Y%m%d}",
        f"{last:%Y%m%d}",
        _quoted(f"Rechnungen {month:%Y-%m}", 30),
        '""',
        "1",
        "0",
        "0",
        f'"{currency}"',
    ]
    return ";".join(fields)


def datev(docs: Sequence[Doc], mapping: Mapping, month: dt.date, made_at: dt.datetime) -> bytes:
    """One booking per invoice and VAT group: the gross amount, debit ("S") on the receivables
    account against the category's revenue account for an invoice, credit ("H") for a credit
    note.  Semicolons, decimal comma, dates as DDMM, Windows-1252 (what DATEV reads)."""
    currency = docs[0].currency if docs else "EUR"
    lines = [datev_header(month, mapping, made_at, currency), ";".join(DATEV_COLUMNS)]
    for doc in docs:
        for category, _rate, base, tax in doc.groups:
            lines.append(
                ";".join(
                    [
                        _comma(base + tax),
                        '"H"' if doc.credit else '"S"',
                        f'"{doc.currency}"',
                        "",
                        "",
                        "",
                        mapping.receivable,
                        mapping.revenue[category],
                        _quoted(mapping.tax_code[category], 4),
                        f"{doc.issued_on:%d%m}",
                        _quoted(doc.number, 36),
                        "",
                        "",
                        _quoted(doc.customer, 60),
                    ]
                )
            )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")
