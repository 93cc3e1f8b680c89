"""A client admin's invoices in the portal: the organisation's approved, sent, paid and
credited invoices and credit notes (``Invoice.objects.for_user``), each with its PDF, Factur-X
PDF and UBL XML.  Client users, who see no invoices, get the portal's 404."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from thirdway.accounts.models import Role
from thirdway.billing.document_views import answer_or_refusal
from thirdway.billing.documents.answers import FORMATS
from thirdway.billing.models import Invoice
from thirdway.portal.views import PAGE_SIZE, contact_required


def _invoices(request: HttpRequest):
    if request.user.role != Role.CLIENT_ADMIN:
        raise Http404
    return Invoice.objects.for_user(request.user)


@contact_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_invoices(request), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"contact": request.contact, "page": page, "invoices": page.object_list}
    return render(request, "portal/invoice_list.html", context)


@contact_required
@require_GET
def invoice_document(request: HttpRequest, invoice_id: int, kind: str) -> HttpResponse:
    if kind not in FORMATS:
        raise Http404
    invoice = get_object_or_404(_invoices(request).select_related("practice"), pk=invoice_id)
    return answer_or_refusal(
        request,
        invoice,
        kind,
        template="portal/document_refused.html",
        back=reverse("portal:invoices"),
    )
