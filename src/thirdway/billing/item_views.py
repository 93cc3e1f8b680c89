"""Pages of expenses and hardware billed to clients: the list, the form to add one, and to
change or delete one not billed yet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.accounts.models import Role
from thirdway.audit.models import Source
from thirdway.billing import items
from thirdway.billing.access import may_manage_billing
from thirdway.billing.forms import BillableItemChangeForm, BillableItemForm
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


def _item(request: HttpRequest, item_id: int) -> BillableItem:
    _admin(request)
    found = BillableItem.objects.for_user(request.user).select_related("client")
    return get_object_or_404(found, pk=item_id)


@login_required
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    """Change an item not billed yet; a billed one says to take its line off the draft."""
    item = _item(request, item_id)
    form = BillableItemChangeForm(request.POST or None, instance=item, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in items.CHANGEABLE}
        try:
            items.change_item(request.user, item, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{data['description']} changed.")
            return redirect("billing:item_list")
    billed = item.invoice_line_id is not None
    return _form_page(
        request,
        form,
        f"Change {item.description} · {item.client}",
        explain=(
            "Billed already: take its line off the draft to change it."
            if billed
            else "Billed on the next run; until then it may change or go."
        ),
        delete_url=None if billed else reverse("billing:item_delete", args=[item.pk]),
    )


@login_required
@require_POST
def item_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    try:
        items.delete_item(request.user, item, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
        return redirect("billing:item_edit", item.pk)
    messages.success(request, f"{item.description} deleted.")
    return redirect("billing:item_list")
