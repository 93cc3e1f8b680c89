"""Pages of a contract's terms: a line's change from a day, the renewal, and a client's billing
details (the VAT identifier e-invoices name the buyer by)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import client_details, renewals, services
from thirdway.billing.forms import BillingDetailsForm, LineChangeForm
from thirdway.billing.models import Contract
from thirdway.billing.views import _admin
from thirdway.clients.models import Client
from thirdway.web.forms import add_service_errors


def _form_page(request, form, title: str, explain: str = "") -> HttpResponse:
    context = {"form": form, "title": title, "explain": explain}
    return render(request, "billing/form.html", context)


@login_required
def line_change(request: HttpRequest, contract_id: int, line_id: int) -> HttpResponse:
    """A new price or quantity from a day: the line ends the day before, a new one starts."""
    _admin(request)
    contract = get_object_or_404(Contract.objects.for_user(request.user), pk=contract_id)
    line = get_object_or_404(contract.lines, pk=line_id)
    form = LineChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        effective_on = data.pop("effective_on")
        try:
            services.change_line_from(request.user, line, effective_on, source=Source.WEB, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{line.description} changes from {effective_on}.")
            return redirect("billing:contract_detail", contract.pk)
    explain = (
        f"{line.description}: {line.price} × {line.quantity} from {line.starts_on}. The month "
        "of the change is prorated by days between the old and the new terms."
    )
    return _form_page(request, form, f"Change a line · {contract.name}", explain)


@login_required
@require_POST
def contract_renew(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Renew now the term the page showed (a second press changes nothing)."""
    _admin(request)
    contract = get_object_or_404(Contract.objects.for_user(request.user), pk=contract_id)
    term_ending = parse_date(request.POST.get("term_ending", "")[:10]) or contract.ends_on
    try:
        made = renewals.renew_contract(
            request.user, contract, source=Source.WEB, term_ending=term_ending
        )
    except (ValidationError, ValueError) as error:
        texts = getattr(error, "messages", [str(error)])
        messages.error(request, " ".join(texts))
        return redirect("billing:contract_detail", contract.pk)
    if made is None:
        messages.info(request, "That term was renewed already.")
    else:
        messages.success(request, f"Renewed to {made.new_end}.")
    return redirect("billing:contract_detail", contract.pk)


@login_required
def billing_details(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's billing details: the VAT identifier its e-invoices name it by."""
    client = get_object_or_404(Client.objects.for_user(request.user), pk=client_id)
    _admin(request)
    details = client_details.details_of(client)
    form = BillingDetailsForm(request.POST or None, instance=details)
    if request.method == "POST" and form.is_valid():
        try:
            client_details.update_billing_details(
                request.user, client, dict(form.cleaned_data), source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Billing details of {client} saved.")
            return redirect("billing:billing_details", client.pk)
    explain = (
        "Reverse-charge e-invoices name the buyer by this VAT identifier (EN 16931 BT-48); "
        "the PDF prints it too."
    )
    return _form_page(request, form, f"Billing details · {client}", explain)
