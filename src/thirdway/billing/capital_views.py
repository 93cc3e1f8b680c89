"""Pages of capital accounts: the list (a practice admin's all, a partner's own), one account
with its entries and buy-out preview, the terms form, the buy-in, the buy-out and the pool's
allocation by month.  The forms only shape input; ``capital`` decides and writes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import capital, instalments
from thirdway.billing.access import may_manage_billing
from thirdway.billing.forms import DateInput, MonthField
from thirdway.billing.models import BuyOutInstalment, CapitalTerms, PoolAllocation
from thirdway.billing.views import _admin
from thirdway.network.models import Partner, Practice
from thirdway.web.forms import add_service_errors


class CapitalTermsForm(forms.ModelForm):
    class Meta:
        model = CapitalTerms
        fields = ["practice", "partner", *capital.TERMS_FIELDS]
        widgets = {"vesting_starts_on": DateInput}
        labels = {"buy_in": "Buy-in", "withhold_percent": "Withhold percent"}

    def __init__(self, *args, fixed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.filter(practices__isnull=False).distinct()
        if fixed:
            del self.fields["practice"], self.fields["partner"]

    def _post_clean(self) -> None:
        """Model validation belongs to the service."""


class BuyInForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, help_text="What was paid.")


class InstalmentsForm(forms.Form):
    instalments = forms.IntegerField(help_text="1 to 120.")
    first_due_on = forms.DateField(widget=DateInput, help_text="On or after the buy-out.")
    every_months = forms.IntegerField(
        initial=1, label="Months between instalments", help_text="1 to 12 (1: monthly)."
    )
    amounts = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Optional: one amount per instalment, separated by spaces, adding up to the "
        "buy-out. Left empty: equal amounts, the cents left over to the first.",
    )
    standing_order = forms.BooleanField(
        required=False,
        label="Paid by standing order",
        help_text="Each instalment is posted paid on its due day, without marking it.",
    )

    def clean_amounts(self) -> list[Decimal] | None:
        text = self.cleaned_data["amounts"].replace(",", " ").split()
        try:
            return [Decimal(word) for word in text] or None
        except InvalidOperation:
            raise ValidationError("Amounts are numbers such as 1250.00.") from None


class AllocationForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.all())
    month = MonthField(help_text="The pool up to the end of this month, e.g. 2026-11.")


def _accounts(request: HttpRequest):
    if not may_manage_billing(request.user) and not request.user.is_network_staff:
        raise Http404
    return CapitalTerms.objects.for_user(request.user).select_related("practice", "partner")


@login_required
def capital_list(request: HttpRequest) -> HttpResponse:
    """Every account for a practice admin, with the pool's allocation; a partner's own."""
    found = _accounts(request)
    accounts = [capital.summary(terms) for terms in found[:500]]
    context: dict = {"accounts": accounts, "can_manage": may_manage_billing(request.user)}
    if context["can_manage"]:
        initial = {"month": timezone.localdate().replace(day=1)}
        form = AllocationForm(request.GET or None, initial=initial)
        context["allocation_form"] = form
        context["allocations"] = PoolAllocation.objects.select_related("practice")[:24]
        if request.GET and form.is_valid():
            practice, month = form.cleaned_data["practice"], form.cleaned_data["month"]
            amount, parts = capital.preview_allocation(practice, month)
            context["preview"] = {
                "practice": practice,
                "month": month,
                "amount": amount,
                "made": PoolAllocation.objects.filter(practice=practice, month=month).first(),
                "parts": [(t, capital.units_shown(u), part) for t, u, part in parts],
            }
    return render(request, "billing/capital_list.html", context)


@login_required
def capital_detail(request: HttpRequest, capital_id: int) -> HttpResponse:
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    context = {
        "account": capital.summary(terms),
        "entries": [(leg, -leg.amount) for leg in capital.entries(terms)],
        "buy_out": capital.preview_buy_out(terms),
        "buy_out_amount": instalments.buy_out_amount(terms),
        "schedule": instalments.schedule(terms),
        "today": timezone.localdate(),
        "can_manage": may_manage_billing(request.user),
        "buy_in_form": BuyInForm(),
    }
    return render(request, "billing/capital_detail.html", context)


@login_required
def capital_terms(request: HttpRequest, capital_id: int | None = None) -> HttpResponse:
    """Agree a partner's terms, or change them."""
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id) if capital_id else None
    form = CapitalTermsForm(
        request.POST or None,
        instance=terms,
        fixed=terms is not None,
        initial={"vesting_starts_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        practice = terms.practice if terms else data.pop("practice")
        partner = terms.partner if terms else data.pop("partner")
        try:
            made = capital.set_terms(
                request.user, practice=practice, partner=partner, source=Source.WEB, **data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Capital terms of {partner} saved.")
            return redirect("billing:capital_detail", made.pk)
    title = f"Capital terms · {terms.partner}" if terms else "Capital terms of a partner"
    explain = (
        "Buy-in: paid at once (recorded as it is paid) or withheld as a percentage of each share "
        "when it becomes payable, until paid. Units vest linearly by whole months from the "
        "vesting start (0 months: at once)."
    )
    context = {"form": form, "title": title, "explain": explain}
    return render(request, "billing/form.html", context)


@login_required
def capital_buy_in(request: HttpRequest, capital_id: int) -> HttpResponse:
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    form = BuyInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            capital.record_buy_in(request.user, terms, amount, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Buy-in of {amount} recorded.")
            return redirect("billing:capital_detail", terms.pk)
    explain = f"What is left of the buy-in: {capital.buy_in_left(terms)}."
    context = {"form": form, "title": f"Buy-in paid · {terms.partner}", "explain": explain}
    return render(request, "billing/form.html", context)


@login_required
def capital_return(request: HttpRequest, capital_id: int) -> HttpResponse:
    """Return part of a partner's capital to them (it becomes payable)."""
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    form = BuyInForm(request.POST or None)
    form.fields["amount"].help_text = "What goes back to the partner."
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            capital.return_capital(request.user, terms, amount, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{amount} of capital returned; it is payable.")
            return redirect("billing:capital_detail", terms.pk)
    explain = f"The capital balance: {capital.balance(terms)}. The units and vesting stay."
    context = {"form": form, "title": f"Capital returned · {terms.partner}", "explain": explain}
    return render(request, "billing/form.html", context)


@login_required
@require_POST
def capital_buy_out(request: HttpRequest, capital_id: int) -> HttpResponse:
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    try:
        capital.record_buy_out(request.user, terms, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{terms.partner} is bought out; the amount is payable.")
    return redirect("billing:capital_detail", terms.pk)


@login_required
def capital_instalments(request: HttpRequest, capital_id: int) -> HttpResponse:
    """Agree how a bought-out partner's buy-out is paid, in instalments."""
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    retired = instalments.retired_on(terms)
    form = InstalmentsForm(request.POST or None, initial={"first_due_on": retired})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            instalments.agree(
                request.user,
                terms,
                count=data["instalments"],
                first_due_on=data["first_due_on"],
                every_months=data["every_months"],
                amounts=data["amounts"],
                standing_order=data["standing_order"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"The buy-out of {terms.partner} is paid in instalments.")
            return redirect("billing:capital_detail", terms.pk)
    explain = (
        f"The buy-out of {instalments.buy_out_amount(terms)} on {retired}, paid in 1 to 120 "
        "instalments; each is posted to the ledger when it is marked paid, or on its due day "
        "when paid by standing order."
    )
    context = {"form": form, "title": f"Buy-out instalments · {terms.partner}", "explain": explain}
    return render(request, "billing/form.html", context)


@login_required
@require_POST
def capital_instalment_paid(request: HttpRequest, capital_id: int, number: int) -> HttpResponse:
    """Mark an instalment paid (a second press changes nothing)."""
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    found = get_object_or_404(
        BuyOutInstalment.objects.for_user(request.user), terms=terms, number=number
    )
    _, posted = instalments.pay(request.user, found, source=Source.WEB)
    if posted:
        messages.success(request, f"Instalment {number} of {found.amount} paid.")
    else:
        messages.info(request, f"Instalment {number} was paid already.")
    return redirect("billing:capital_detail", terms.pk)


@login_required
@require_POST
def capital_standing_order(request: HttpRequest, capital_id: int) -> HttpResponse:
    """Start or stop paying the buy-out's instalments by standing order."""
    _admin(request)
    terms = get_object_or_404(_accounts(request), pk=capital_id)
    on = request.POST.get("on") == "1"
    try:
        instalments.set_standing_order(request.user, terms, on=on, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "The instalments are paid by standing order: each is posted on its due day."
            if on
            else "The standing order is stopped: instalments are posted when marked paid.",
        )
    return redirect("billing:capital_detail", terms.pk)


@login_required
@require_POST
def capital_allocate(request: HttpRequest) -> HttpResponse:
    """Allocate the month's pool (a second press answers the allocation made before)."""
    _admin(request)
    form = AllocationForm(request.POST)
    if form.is_valid():
        practice, month = form.cleaned_data["practice"], form.cleaned_data["month"]
        try:
            made, created = capital.allocate(request.user, practice, month, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if created:
                messages.success(request, f"Pool of {month:%Y-%m} allocated: {made.amount}.")
            else:
                messages.info(request, f"The pool of {month:%Y-%m} was allocated already.")
            return redirect("billing:capital_list")
    context = {
        "accounts": [capital.summary(t) for t in _accounts(request)[:500]],
        "can_manage": True,
        "allocation_form": form,
        "allocations": PoolAllocation.objects.select_related("practice")[:24],
    }
    return render(request, "billing/capital_list.html", context, status=400)
