"""The three documents as HTTP answers, shared by the invoice page, the portal and the API:
each is a download named after the invoice's number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse

from thirdway.billing.documents.facts import InvoiceFacts, facts_of, require_einvoice_ready
from thirdway.billing.documents.facturx import render_facturx
from thirdway.billing.documents.pdf import render_pdf
from thirdway.billing.documents.ubl import ubl_xml
from thirdway.billing.invoice_models import Invoice


def _ubl(facts: InvoiceFacts) -> bytes:
    require_einvoice_ready(facts)
    return ubl_xml(facts)


@dataclass(frozen=True)
class Format:
    label: str
    content_type: str
    suffix: str
    render: Callable[[InvoiceFacts], bytes]


FORMATS = {
    "pdf": Format("PDF", "application/pdf", ".pdf", render_pdf),
    "facturx": Format("Factur-X PDF", "application/pdf", "-factur-x.pdf", render_facturx),
    "ubl": Format("UBL XML", "application/xml", "-ubl.xml", _ubl),
}


def filename(number: str, suffix: str) -> str:
    safe = "".join(char if char.isalnum() or char in "-_." else "-" for char in number)
    return f"{safe}{suffix}"


def document_answer(invoice: Invoice, kind: str) -> HttpResponse:
    """The document ``kind`` (a key of ``FORMATS``) of ``invoice`` as a download.  Raises
    ``DraftHasNoDocument`` for a draft and ``NotReadyForEinvoice`` for an e-invoice missing a
    detail."""
    chosen = FORMATS[kind]
    facts = facts_of(invoice)
    response = HttpResponse(chosen.render(facts), content_type=chosen.content_type)
    name = filename(facts.number, chosen.suffix)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
