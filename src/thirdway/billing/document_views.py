"""Downloads of an invoice's documents from its page: the PDF, the Factur-X PDF and the UBL
XML, for whoever may see the invoice (``Invoice.objects.for_user``); a draft has none (409)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from thirdway.billing.documents.answers import FORMATS, document_answer
from thirdway.billing.documents.facts import DraftHasNoDocument, NotReadyForEinvoice
from thirdway.billing.invoice_models import Invoice


def answer_or_refusal(
    request: HttpRequest, invoice: Invoice, kind: str, *, template: str, back: str
) -> HttpResponse:
    """The document, or a page saying why there is none (409) with the way back."""
    try:
        return document_answer(invoice, kind)
    except (DraftHasNoDocument, NotReadyForEinvoice) as refused:
        context = {"invoice": invoice, "reason": str(refused), "back": back}
        context["format"] = FORMATS[kind].label
        return render(request, template, context, status=409)


@login_required
@require_GET
def invoice_document(request: HttpRequest, invoice_id: int, kind: str) -> HttpResponse:
    if kind not in FORMATS:
        raise Http404
    visible = Invoice.objects.for_user(request.user).select_related("client", "practice")
    invoice = get_object_or_404(visible, pk=invoice_id)
    return answer_or_refusal(
        request,
        invoice,
        kind,
        template="billing/document_refused.html",
        back=f"/billing/invoices/{invoice.pk}/",
    )
