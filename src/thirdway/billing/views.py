"""Pages of the business: contracts, time, the invoice run, invoices and statements."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.accounts.models import Role
from thirdway.audit.models import Source
from thirdway.billing import blocks, invoicing, issuing, month_end, projects, renewals, services
from thirdway.billing.access import (
    may_book_time,
    may_manage_billing,
    may_see_statement,
    sees_all_statements,
)
from thirdway.billing.forms import (
    ContractFilterForm,
    ContractForm,
    ContractLineForm,
    InvoiceLineForm,
    RunForm,
    SettingsForm,
    StatementForm,
    TimeEntryForm,
)
from thirdway.billing.models import Contract, ContractKind, Invoice, Leg, TimeEntry
from thirdway.billing.proposals import Surcharge
from thirdway.billing.statements import statement
from thirdway.clients.models import Client
from thirdway.network.models import Partner, Practice
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 50
ACTS = {
    "approve": issuing.approve_invoice,
    "send": issuing.mark_sent,
    "paid": issuing.mark_paid,
    "credit": issuing.credit_invoice,
}


def _admin(request: HttpRequest) -> None:
    """A practice admin's page: 403 for the rest of the network, 404 for anyone else."""
    if not may_manage_billing(request.user):
        raise PermissionDenied if request.user.is_network_staff else Http404


def _form_page(request, form, title: str, **extra) -> HttpResponse:
    return render(request, "billing/form.html", {"form": form, "title": title, **extra})


# --- contracts ---------------------------------------------------------------------------------


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_network_staff:
        raise Http404
    contracts = Contract.objects.for_user(request.user)
    form = ContractFilterForm(request.GET or None, clients=Client.objects.for_user(request.user))
    if form.is_valid() and form.cleaned_data["client"]:
        contracts = contracts.filter(client=form.cleaned_data["client"])
    contracts = contracts.select_related("client", "practice", "originator")
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/contract_list.html", {"page": page, "form": form})


@login_required
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(
        Contract.objects.for_user(request.user).select_related("client", "practice"),
        pk=contract_id,
    )
    # not "block": templates rendering inside {% block %} hold that name already
    burns = [blocks.burn(contract)] if contract.kind == ContractKind.BLOCK_HOURS else []
    project = projects.progress(contract) if contract.kind == ContractKind.PROJECT else None
    return render(
        request,
        "billing/contract_detail.html",
        {
            "contract": contract,
            "lines": contract.lines.all(),
            "burns": burns,
            "can_manage": may_manage_billing(request.user),
            "can_top_up": may_manage_billing(request.user),
            "today": timezone.localdate(),
            "renewal_due": renewals.is_due(contract, timezone.localdate()),
            "renewals": contract.renewals.all(),
            "project": project,
            "can_mark_done": project is not None and projects.may_mark_done(request.user, contract),
            "practice_multiplier": Surcharge.of(contract.practice, timezone.localdate()).multiplier,
        },
    )


@login_required
def contract_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.create_contract(
                request.user, source=Source.WEB, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{contract.name} added.")
            return redirect("billing:contract_detail", contract.pk)
    return _form_page(request, form, "New contract")


@login_required
def contract_edit(request: HttpRequest, contract_id: int) -> HttpResponse:
    _admin(request)
    contract = get_object_or_404(Contract.objects.for_user(request.user), pk=contract_id)
    form = ContractForm(request.POST or None, instance=contract)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_contract(
                request.user, Contract.objects.get(pk=contract.pk), data, source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("billing:contract_detail", contract.pk)
    return _form_page(request, form, f"Edit {contract.name}")


@login_required
def line_form(request: HttpRequest, contract_id: int, line_id: int | None = None) -> HttpResponse:
    """Add a priced line to a contract, or change one."""
    _admin(request)
    contract = get_object_or_404(Contract.objects.for_user(request.user), pk=contract_id)
    line = get_object_or_404(contract.lines, pk=line_id) if line_id else None
    form = ContractLineForm(request.POST or None, instance=line)
    if request.method == "POST" and form.is_valid():
        try:
            if line is None:
                services.add_contract_line(
                    request.user, contract, source=Source.WEB, **form.cleaned_data
                )
            else:
                data = {name: form.cleaned_data[name] for name in form.changed_data}
                services.update_contract_line(
                    request.user, contract.lines.get(pk=line.pk), data, source=Source.WEB
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("billing:contract_detail", contract.pk)
    title = f"{'Edit line' if line else 'New line'} · {contract.name}"
    return _form_page(request, form, title)


# --- time --------------------------------------------------------------------------------------


@login_required
def time_list(request: HttpRequest) -> HttpResponse:
    if not may_book_time(request.user):
        raise Http404
    entries = TimeEntry.objects.for_user(request.user).select_related(
        "partner", "contract_line__contract__client", "invoice_line__invoice"
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/time_list.html", {"page": page})


@login_required
def time_create(request: HttpRequest) -> HttpResponse:
    if not may_book_time(request.user):
        raise Http404
    contracts = Contract.objects.for_user(request.user)
    form = TimeEntryForm(
        request.POST or None,
        user=request.user,
        contracts=contracts,
        initial={"worked_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        try:
            services.record_time(request.user, source=Source.WEB, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Time booked.")
            return redirect("billing:time_list")
    return _form_page(request, form, "Book time")


# --- invoices ----------------------------------------------------------------------------------


def _invoices(request: HttpRequest):
    return Invoice.objects.for_user(request.user).select_related("client", "practice")


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_network_staff or request.user.role == Role.CLIENT_ADMIN):
        raise Http404
    invoices = _invoices(request)
    state = request.GET.get("state", "")
    if state:
        invoices = invoices.filter(state=state)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/invoice_list.html",
        {"page": page, "state": state, "can_manage": may_manage_billing(request.user)},
    )


@login_required
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    lines = list(invoice.lines.select_related("contract_line__contract"))
    can_manage = may_manage_billing(request.user)
    splits = {}
    if can_manage:
        for leg in (
            Leg.objects.filter(transaction__invoice=invoice, transaction__kind="split")
            .exclude(rule="")
            .select_related("account__partner", "transaction")
        ):
            splits.setdefault(leg.transaction.invoice_line_id, []).append(leg)
    for line in lines:
        line.shares = splits.get(line.pk, [])
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "breakdown": invoicing.vat_breakdown(lines),
            "can_manage": can_manage,
        },
    )


@login_required
@require_POST
def invoice_act(request: HttpRequest, invoice_id: int, act: str) -> HttpResponse:
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    _admin(request)
    if act not in ACTS:
        raise Http404
    try:
        done = ACTS[act](request.user, invoice, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
        return redirect("billing:invoice_detail", invoice.pk)
    messages.success(request, f"{done}: {done.get_state_display().lower()}.")
    return redirect("billing:invoice_detail", done.pk)


@login_required
def invoice_run(request: HttpRequest) -> HttpResponse:
    """Choose a practice and month, preview what would be billed, then run."""
    _admin(request)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = RunForm(data, initial={"month": timezone.localdate().replace(day=1)})
    preview = None
    if data is not None and form.is_valid():
        practice, month = form.cleaned_data["practice"], form.cleaned_data["month"]
        workers = form.cleaned_data["workers"]
        if request.method == "POST":
            run = invoicing.run_invoices(
                request.user, practice, month, source=Source.WEB, workers=workers
            )
            messages.success(
                request,
                f"{run.invoices_made} new drafts, {run.lines_made} new lines for "
                f"{practice} in {month:%B %Y}.",
            )
            return redirect(f"{redirect('billing:invoice_list').url}?state=draft")
        preview = [
            {"client": client, "lines": lines, "net": sum(line.net for line in lines)}
            for client, lines in invoicing.proposals(practice, month).values()
        ]
        drafts = Invoice.objects.filter(
            practice=practice, month=month, kind="invoice", state="draft"
        ).count()
    else:
        drafts = 0
    status = 400 if data is not None and form.errors else 200
    context = {"form": form, "preview": preview, "drafts": drafts}
    return render(request, "billing/run.html", context, status=status)


@login_required
@require_POST
def run_approve(request: HttpRequest) -> HttpResponse:
    """Approve every draft of the practice's month that has lines (the month-end)."""
    _admin(request)
    form = RunForm(request.POST)
    if not form.is_valid():
        return render(request, "billing/run.html", {"form": form, "preview": None}, status=400)
    practice, month = form.cleaned_data["practice"], form.cleaned_data["month"]
    approved = month_end.approve_drafts(
        request.user, practice, month, source=Source.WEB, workers=form.cleaned_data["workers"]
    )
    if approved:
        messages.success(
            request,
            f"{len(approved)} invoice{'s' if len(approved) != 1 else ''} of {practice} for "
            f"{month:%B %Y} approved, numbered {approved[0].number} to {approved[-1].number}.",
        )
    else:
        messages.info(request, f"No draft with lines to approve for {practice} in {month:%B %Y}.")
    return redirect(f"{redirect('billing:invoice_list').url}?state=approved")


# --- statements and settings -------------------------------------------------------------------


def _month(value: dt.date | None) -> dt.date:
    return (value or timezone.localdate()).replace(day=1)


@login_required
def statement_page(request: HttpRequest) -> HttpResponse:
    """A partner's month; a practice admin picks any partner."""
    user = request.user
    own = getattr(user, "partner", None) if user.is_network_staff else None
    if own is None and not sees_all_statements(user):
        raise Http404
    partners = Partner.objects.all() if sees_all_statements(user) else Partner.objects.none()
    data = request.GET.copy()
    if not data.get("month"):
        data["month"] = f"{timezone.localdate():%Y-%m}"
    form = StatementForm(data, partners=partners)
    chosen = month = None
    if form.is_valid():
        chosen, month = form.cleaned_data["partner"], form.cleaned_data["month"]
    partner = chosen or own
    context = {"form": form, "partner": partner}
    if partner is not None:
        context["statement"] = statement(partner, _month(month))
    return render(request, "billing/statement.html", context)


@login_required
def share_detail(request: HttpRequest, leg_id: int) -> HttpResponse:
    """One amount of a statement: the invoice line, the rule and what the split was based on."""
    leg = get_object_or_404(
        Leg.objects.select_related(
            "account__partner", "transaction__invoice__client", "transaction__invoice_line"
        ),
        pk=leg_id,
    )
    partner = leg.account.partner
    if partner is None or not may_see_statement(request.user, partner):
        raise Http404
    posted = leg.transaction
    facts = posted.facts
    if posted.kind != "split" and posted.invoice_line_id:
        split = posted.invoice_line.transactions.filter(kind="split").first()
        facts = split.facts if split else facts
    found = TimeEntry.objects.filter(pk__in=facts.get("time_entries", []))
    # Each entry with its minutes after hours, which an after-hours line's delivery weighs.
    after_hours = facts.get("after_hours_minutes", {})
    entries = [(entry, after_hours.get(str(entry.pk))) for entry in found.select_related("partner")]
    return render(
        request,
        "billing/share.html",
        {"leg": leg, "posted": posted, "facts": facts, "entries": entries, "partner": partner},
    )


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    _admin(request)
    first = Practice.objects.order_by("name", "pk").first()
    if first is None:
        raise Http404
    return redirect("billing:settings", first.pk)


@login_required
@require_POST
def line_remove(request: HttpRequest, invoice_id: int, line_id: int) -> HttpResponse:
    """Take a line off a draft (its time and month may be billed again)."""
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    _admin(request)
    line = get_object_or_404(invoice.lines, pk=line_id)
    try:
        issuing.remove_invoice_line(request.user, line, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    return redirect("billing:invoice_detail", invoice.pk)


@login_required
def line_add(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Add a line to a draft by hand: hardware, an expense."""
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    _admin(request)
    form = InvoiceLineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issuing.add_invoice_line(request.user, invoice, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Line added.")
            return redirect("billing:invoice_detail", invoice.pk)
    return _form_page(request, form, f"New line · {invoice}")


@login_required
def settings_page(request: HttpRequest, practice_id: int) -> HttpResponse:
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    settings = services.settings_of(practice)
    form = SettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_settings(request.user, practice, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("billing:settings", practice.pk)
    practices = Practice.objects.all()
    return _form_page(
        request, form, f"Billing of {practice}", practices=practices, tools_practice=practice
    )
