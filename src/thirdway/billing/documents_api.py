"""The API of an invoice's documents: its PDF, its Factur-X PDF and its UBL XML, for whoever
may see the invoice (a client admin: their organisation's).  A draft has no number, so no
document (409, with the states that have one); an e-invoice the practice's settings cannot
make yet (no VAT identifier, say) is a 409 saying what is missing."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.errors import HttpError

from thirdway.billing.documents.answers import document_answer
from thirdway.billing.documents.facts import NotReadyForEinvoice
from thirdway.billing.invoice_models import Invoice

router = Router()


def _answer(request, invoice_id: int, kind: str) -> HttpResponse:
    visible = Invoice.objects.for_user(request.auth).select_related("client", "practice")
    invoice = get_object_or_404(visible, pk=invoice_id)
    try:
        return document_answer(invoice, kind)
    except NotReadyForEinvoice as missing:
        raise HttpError(409, str(missing)) from missing


@router.get("/invoices/{invoice_id}/pdf")
def get_invoice_pdf(request, invoice_id: int):
    """The invoice or credit note as a PDF (application/pdf, a download)."""
    return _answer(request, invoice_id, "pdf")


@router.get("/invoices/{invoice_id}/facturx")
def get_invoice_facturx(request, invoice_id: int):
    """The Factur-X PDF (application/pdf): the PDF with its EN 16931 CII XML embedded."""
    return _answer(request, invoice_id, "facturx")


@router.get("/invoices/{invoice_id}/ubl")
def get_invoice_ubl(request, invoice_id: int):
    """The EN 16931 e-invoice in UBL 2.1 (application/xml): an Invoice, or a CreditNote."""
    return _answer(request, invoice_id, "ubl")
