"""Pages of expenses and hardware billed to clients: the list and the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from thirdway.accounts.models import Role
from thirdway.audit.models import Source
from thirdway.billing import items
from thirdway.billing.access import may_manage_billing
from thirdway.billing.forms import BillableItemForm
from thirdway.billing.models import BillableItem
from thirdway.billing.views import PAGE_SIZE, _admin, _form_page
from thirdway.web.forms import add_service_errors


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    if request.user.role not in (Role.PRACTICE_ADMIN, Role.PARTNER):
        raise Http404
    found = BillableItem.objects.for_user(request.user).select_related(
        "client", "contract", "invoice_line__invoice"
    )
    state = request.GET.get("state", "")
    if state in ("unbilled", "invoiced"):
        found = found.filter(invoice_line__isnull=state == "unbilled")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "state": state, "can_manage": may_manage_billing(request.user)}
    return render(request, "billing/items.html", context)


@login_required
def item_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = BillableItemForm(
        request.POST or None, user=request.user, initial={"incurred_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = items.record_item(request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{item.description} will be billed on the next run.")
            return redirect("billing:item_list")
    return _form_page(request, form, "Add an expense or hardware")
