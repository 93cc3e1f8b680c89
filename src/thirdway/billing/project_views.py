"""Pages of fixed-fee projects: the plan of milestones and marking one done (the project's
budget and milestones show on its contract page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import projects
from thirdway.billing.access import may_manage_billing
from thirdway.billing.forms import DateInput
from thirdway.billing.models import Contract, ContractKind, Milestone
from thirdway.web.forms import service_texts

EMPTY_ROWS = 3


class MilestoneRow(forms.Form):
    """One milestone of the plan; a row without a name is left out (removed)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=projects.NAME_LENGTH, required=False)
    amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    percent = forms.DecimalField(
        required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    due_on = forms.DateField(required=False, widget=DateInput)


MilestoneRows = forms.formset_factory(MilestoneRow, extra=0, max_num=projects.MOST_MILESTONES)


def _project(request: HttpRequest, contract_id: int) -> Contract:
    contracts = Contract.objects.for_user(request.user).select_related("client")
    contract = get_object_or_404(contracts, pk=contract_id)
    if contract.kind != ContractKind.PROJECT:
        raise Http404
    return contract


def _initial(contract: Contract) -> list[dict]:
    rows = [
        {
            "id": m.pk,
            "name": m.name,
            "amount": m.amount,
            "percent": m.percent,
            "due_on": m.due_on,
        }
        for m in contract.milestones.all()
    ]
    return rows + [{} for _ in range(EMPTY_ROWS)]


def _items(formset) -> list[dict]:
    return [
        {**row, "name": row["name"].strip()}
        for row in (form.cleaned_data for form in formset.forms)
        if row.get("name", "").strip()
    ]


@login_required
def milestones_edit(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The plan of a project's milestones (practice admins): they must add up to the price."""
    if not may_manage_billing(request.user):
        raise PermissionDenied if request.user.is_network_staff else Http404
    contract = _project(request, contract_id)
    formset = MilestoneRows(request.POST or None, initial=_initial(contract), prefix="m")
    problems: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            projects.set_milestones(request.user, contract, _items(formset), source=Source.WEB)
        except ValidationError as error:
            problems = service_texts(error)
        else:
            messages.success(request, "Milestones saved.")
            return redirect("billing:contract_detail", contract.pk)
    done = {m.pk for m in contract.milestones.all() if m.done_at}
    return render(
        request,
        "billing/milestones_form.html",
        {
            "contract": contract,
            "formset": formset,
            "problems": problems,
            "done": done,
        },
        status=400 if problems or (request.method == "POST" and not formset.is_valid()) else 200,
    )


@login_required
@require_POST
def milestone_done(request: HttpRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    """Mark a milestone done (practice admins, the client's lead partner)."""
    contract = _project(request, contract_id)
    milestone = get_object_or_404(Milestone.objects.filter(contract=contract), pk=milestone_id)
    try:
        projects.mark_done(request.user, milestone, source=Source.WEB)
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, text)
    else:
        messages.success(request, f"{milestone.name} is done: the next invoice run bills it.")
    return redirect("billing:contract_detail", contract.pk)


@login_required
@require_POST
def milestone_undone(request: HttpRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    """Un-mark a milestone done while no invoice bills it (practice admins, the client's lead
    partner); once billed the page says why it stays done."""
    contract = _project(request, contract_id)
    milestone = get_object_or_404(Milestone.objects.filter(contract=contract), pk=milestone_id)
    try:
        projects.unmark_done(request.user, milestone, source=Source.WEB)
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, text)
    else:
        messages.success(request, f"{milestone.name} is no longer done: the next run leaves it.")
    return redirect("billing:contract_detail", contract.pk)
