"""Approved invoices for the document tests: Acme's of November with standard-rated,
zero-rated and exempt lines, and Globex's, from a practice whose billing settings name the
seller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing, services
from thirdway.billing.models import Invoice

from .weeks import approve_weeks

MONTH = dt.date(2026, 11, 1)
SELLER = {
    "legal_name": "Security Partners SCOP",
    "vat_id": "FR40303265045",
    "street": "12 rue des Lilas",
    "postcode": "69003",
    "city": "Lyon",
    "country": "FR",
    "iban": "FR7630006000011234567890189",
    "payment_days": 30,
}


@dataclass
class Invoices:
    acme: Invoice
    globex: Invoice


def seller_settings(cast, **changes) -> None:
    services.update_settings(cast.admin, cast.security, {**SELLER, **changes}, source=Source.CLI)


def approve(cast, invoice: Invoice) -> Invoice:
    issuing.approve_invoice(cast.admin, invoice, source=Source.CLI)
    return Invoice.objects.get(pk=invoice.pk)


def drafts(cast, books, book_time) -> tuple[Invoice, Invoice]:
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    acme = Invoice.objects.get(client=cast.acme, state="draft")
    issuing.add_invoice_line(
        cast.admin,
        acme,
        description="Training course (exempt)",
        quantity=Decimal(1),
        unit_price=Decimal("250.00"),
        vat_category="E",
        vat_rate=Decimal(0),
        source=Source.CLI,
    )
    return acme, Invoice.objects.get(client=cast.globex, state="draft")


@pytest.fixture
def invoices(cast, books, book_time) -> Invoices:
    seller_settings(cast)
    acme, globex = drafts(cast, books, book_time)
    return Invoices(acme=approve(cast, acme), globex=approve(cast, globex))
