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
# The 125 columns of the booking batch, format version 13, in the order DATEV reads them
# (by position: every row has all of them, empty where we have nothing to say).
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
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    "Beleginfo - Art 1",
    "Beleginfo - Inhalt 1",
    "Beleginfo - Art 2",
    "Beleginfo - Inhalt 2",
    "Beleginfo - Art 3",
    "Beleginfo - Inhalt 3",
    "Beleginfo - Art 4",
    "Beleginfo - Inhalt 4",
    "Beleginfo - Art 5",
    "Beleginfo - Inhalt 5",
    "Beleginfo - Art 6",
    "Beleginfo - Inhalt 6",
    "Beleginfo - Art 7",
    "Beleginfo - Inhalt 7",
    "Beleginfo - Art 8",
    "Beleginfo - Inhalt 8",
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Mitgliedstaat u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    "Zusatzinformation - Art 1",
    "Zusatzinformation - Inhalt 1",
    "Zusatzinformation - Art 2",
    "Zusatzinformation - Inhalt 2",
    "Zusatzinformation - Art 3",
    "Zusatzinformation - Inhalt 3",
    "Zusatzinformation - Art 4",
    "Zusatzinformation - Inhalt 4",
    "Zusatzinformation - Art 5",
    "Zusatzinformation - Inhalt 5",
    "Zusatzinformation - Art 6",
    "Zusatzinformation - Inhalt 6",
    "Zusatzinformation - Art 7",
    "Zusatzinformation - Inhalt 7",
    "Zusatzinformation - Art 8",
    "Zusatzinformation - Inhalt 8",
    "Zusatzinformation - Art 9",
    "Zusatzinformation - Inhalt 9",
    "Zusatzinformation - Art 10",
    "Zusatzinformation - Inhalt 10",
    "Zusatzinformation - Art 11",
    "Zusatzinformation - Inhalt 11",
    "Zusatzinformation - Art 12",
    "Zusatzinformation - Inhalt 12",
    "Zusatzinformation - Art 13",
    "Zusatzinformation - Inhalt 13",
    "Zusatzinformation - Art 14",
    "Zusatzinformation - Inhalt 14",
    "Zusatzinformation - Art 15",
    "Zusatzinformation - Inhalt 15",
    "Zusatzinformation - Art 16",
    "Zusatzinformation - Inhalt 16",
    "Zusatzinformation - Art 17",
    "Zusatzinformation - Inhalt 17",
    "Zusatzinformation - Art 18",
    "Zusatzinformation - Inhalt 18",
    "Zusatzinformation - Art 19",
    "Zusatzinformation - Inhalt 19",
    "Zusatzinformation - Art 20",
    "Zusatzinformation - Inhalt 20",
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Mitgliedstaat (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Mitgliedstaat u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
DATEV_EU_VAT_ID = DATEV_COLUMNS.index("EU-Mitgliedstaat u. UStID (Bestimmung)")
DATEV_SERVICE_DATE = DATEV_COLUMNS.index("Leistungsdatum")


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
    vat_rate: Decimal | None = None
    # The last day the line covers (a monthly charge's period); None for time and one-offs.
    period_end: dt.date | None = None


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
    # The last day of the month billed: the service date of what has no period of its own.
    month_end: dt.date | None = None
    buyer_vat_id: str = ""
    # The client's debtor account (DATEV's Konto); empty: the receivables account.
    debtor: str = ""

    def service_date(self, category: str, rate: Decimal) -> dt.date:
        """When the group's service was done: the latest end of its lines' periods (a month
        billed in advance ends next month), else the end of the month billed."""
        ends = [
            line.period_end
            for line in self.lines
            if line.period_end and line.vat_category == category and line.vat_rate == rate
        ]
        return max(ends, default=self.month_end or self.issued_on)


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
    """The EXTF header line, its 31 fields: header version 700, category 21 (booking batch),
    format version 13."""
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
        # 23 to 31: reserved, derivative flag, reserved, reserved, chart of accounts (SKR),
        # industry solution, reserved, reserved, application information: all left empty.
        *[""] * 9,
    ]
    return ";".join(fields)


def _booking(doc: Doc, group: tuple[str, Decimal, Decimal, Decimal], mapping: Mapping) -> str:
    """One row of all the columns: amount, side, accounts, tax code, document, text, and the
    service date; for reverse charge the buyer's VAT identifier (country and number)."""
    category, rate, base, tax = group
    row = [""] * len(DATEV_COLUMNS)
    row[:14] = [
        _comma(base + tax),
        '"H"' if doc.credit else '"S"',
        f'"{doc.currency}"',
        "",
        "",
        "",
        doc.debtor or mapping.receivable,
        mapping.revenue[category],
        _quoted(mapping.tax_code[category], 4),
        f"{doc.issued_on:%d%m}",
        _quoted(doc.number, 36),
        "",
        "",
        _quoted(doc.customer, 60),
    ]
    if category == "AE" and doc.buyer_vat_id:
        row[DATEV_EU_VAT_ID] = _quoted(doc.buyer_vat_id, 15)
    row[DATEV_SERVICE_DATE] = f"{doc.service_date(category, rate):%d%m%Y}"
    return ";".join(row)


def datev(docs: Sequence[Doc], mapping: Mapping, month: dt.date, made_at: dt.datetime) -> bytes:
    """One booking per invoice and VAT group: the gross amount, debit ("S") on the client's
    debtor account (Konto; the receivables account for a document without one) against the
    category's revenue account (Gegenkonto) for an invoice, credit ("H") for a credit note.
    Semicolons, decimal comma, dates as DDMM (the service date DDMMYYYY), Windows-1252 (what
    DATEV reads)."""
    currency = docs[0].currency if docs else "EUR"
    lines = [datev_header(month, mapping, made_at, currency), ";".join(DATEV_COLUMNS)]
    lines += [_booking(doc, group, mapping) for doc in docs for group in doc.groups]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")
