"""Pages of weekly timesheets, corrections, block top-ups and the billed-vs-counted report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import blocks, drift, services, timesheets
from thirdway.billing.access import (
    may_book_time,
    may_correct_time,
    may_decide_timesheet,
    may_manage_billing,
)
from thirdway.billing.forms import DateInput, TimeEntryForm, TimeInput
from thirdway.billing.models import (
    BillingStatus,
    Contract,
    ContractKind,
    TimeEntry,
    TimeKind,
    Timesheet,
    TimesheetState,
)
from thirdway.network.models import Partner, Practice
from thirdway.tickets.lifecycle import TransitionRefused
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 50
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


class WeekPicker(forms.Form):
    day = forms.DateField(
        label="Week of",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Any day of the week (Monday to Sunday).",
    )

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError("Pick a day from 1900 to 2099.")
        return day


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=timesheets.REASON_LENGTH, widget=forms.TextInput)


def _in_years(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError("Pick a day from 1900 to 2099.")
    return day


class CorrectionForm(forms.Form):
    """What a correction may change, bounded as the API's: the day, the start, the kind, the
    minutes, the billing status and the note.  A field left out stays as it is."""

    worked_on = forms.DateField(label="Day", widget=DateInput, required=False)
    start_time = forms.TimeField(
        widget=TimeInput, required=False, help_text="Empty: the start stays as it is."
    )
    kind = forms.ChoiceField(choices=TimeKind.choices, required=False)
    worked_minutes = forms.IntegerField(min_value=0, max_value=24 * 60)
    billable_minutes = forms.IntegerField(
        min_value=0, max_value=24 * 60, required=False, help_text="Empty: the minutes worked."
    )
    billing_status = forms.ChoiceField(choices=BillingStatus.choices, required=False)
    note = forms.CharField(max_length=500, required=False)

    def clean_worked_on(self) -> dt.date | None:
        day = self.cleaned_data["worked_on"]
        return None if day is None else _in_years(day)


class TopUpForm(forms.Form):
    hours = forms.DecimalField(
        min_value=0.25, max_value=blocks.TOP_UP_MOST // 60, decimal_places=2, max_digits=8
    )
    price = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)
    note = forms.CharField(max_length=blocks.NOTE_LENGTH, required=False)


def _sheet_page(request, sheet: Timesheet, form=None, own: bool = False) -> HttpResponse:
    saved = sheet.pk is not None
    worked, billable = timesheets.week_total(sheet) if saved else (0, 0)
    start = sheet.week_start
    context = {
        "sheet": sheet,
        "entries": timesheets.week_entries(sheet) if saved else [],
        "worked": worked,
        "billable": billable,
        "week_end": start + dt.timedelta(days=6),
        "previous": start - dt.timedelta(days=7),
        "next": start + dt.timedelta(days=7),
        "picker": WeekPicker(initial={"day": start}),
        "form": form,
        "own": own,
        "may_correct": own or request.user.is_practice_admin,
        "may_submit": own or request.user.is_practice_admin,
        "here": request.get_full_path(),
        "may_decide": sheet.pk is not None and may_decide_timesheet(request.user, sheet),
        "reject_form": RejectForm(),
    }
    return render(request, "billing/week.html", context)


@login_required
def my_week(request: HttpRequest) -> HttpResponse:
    """The signed-in partner's week: its entries, booking time into it, submitting it."""
    if not may_book_time(request.user):
        raise Http404
    partner = getattr(request.user, "partner", None)
    if partner is None:
        messages.info(request, "You keep no timesheet; weeks to approve are listed here.")
        return redirect("billing:week_queue")
    picker = WeekPicker(request.GET or None)
    day = picker.cleaned_data["day"] if picker.is_valid() else timesheets.today_of(partner)
    sheet = Timesheet.objects.filter(
        partner=partner, week_start=timesheets.week_of(day)
    ).first() or Timesheet(partner=partner, week_start=timesheets.week_of(day))
    form = None
    if sheet.is_editable:
        form = TimeEntryForm(
            request.POST or None,
            user=request.user,
            contracts=Contract.objects.for_user(request.user),
            initial={"worked_on": max(day, sheet.week_start)},
        )
        if "partner" in form.fields:
            del form.fields["partner"]
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                services.record_time(request.user, source=Source.WEB, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Time booked.")
                return redirect(f"{reverse('billing:my_week')}?day={data['worked_on']}")
    elif request.method == "POST":
        messages.error(request, "This week takes no more time.")
    response = _sheet_page(request, sheet, form, own=True)
    if request.method == "POST" and form is not None:
        response.status_code = 400
    return response


def _visible_sheet(request, sheet_id: int) -> Timesheet:
    return get_object_or_404(
        Timesheet.objects.for_user(request.user).select_related("partner", "decided_by"),
        pk=sheet_id,
    )


@login_required
def week_detail(request: HttpRequest, sheet_id: int) -> HttpResponse:
    sheet = _visible_sheet(request, sheet_id)
    own = sheet.partner.user_id == request.user.pk
    if own:
        return redirect(f"{reverse('billing:my_week')}?day={sheet.week_start}")
    return _sheet_page(request, sheet)


@login_required
@require_POST
def week_act(request: HttpRequest, sheet_id: int, act: str) -> HttpResponse:
    """Submit (the partner, or an admin for them), approve or reject (admin or practice lead)."""
    sheet = _visible_sheet(request, sheet_id)
    try:
        if act == "submit":
            timesheets.submit(request.user, sheet, source=Source.WEB)
            messages.success(request, "Week submitted for approval.")
        elif act == "approve":
            timesheets.approve(request.user, sheet, source=Source.WEB)
            messages.success(request, f"Week of {sheet.week_start} of {sheet.partner} approved.")
        elif act == "reject":
            form = RejectForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            timesheets.reject(request.user, sheet, reason, source=Source.WEB)
            messages.success(request, f"Week of {sheet.week_start} of {sheet.partner} rejected.")
        else:
            raise Http404
    except TransitionRefused as refused:
        messages.error(request, str(refused))
        return _back(request, sheet, status=409, act=act)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, sheet, status=400, act=act)
    return _back(request, sheet, act=act)


def _back(request, sheet: Timesheet, status: int = 302, act: str = "") -> HttpResponse:
    """Back to one's own week; to the queue after a decision; to the partner's week after
    submitting it for them."""
    own = sheet.partner.user_id == request.user.pk
    if own:
        target = f"{reverse('billing:my_week')}?day={sheet.week_start}"
    elif act == "submit":
        target = reverse("billing:week_detail", args=[sheet.pk])
    else:
        target = reverse("billing:week_queue")
    if status == 302:
        return redirect(target)
    if own or act == "submit":
        response = _sheet_page(request, Timesheet.objects.get(pk=sheet.pk), own=own)
    else:
        response = week_queue(request)
    response.status_code = status
    return response


@login_required
def week_queue(request: HttpRequest) -> HttpResponse:
    """Weeks waiting for a decision the signed-in person may take, oldest first."""
    if not request.user.is_network_staff:
        raise Http404
    waiting = (
        Timesheet.objects.for_user(request.user)
        .filter(state=TimesheetState.SUBMITTED)
        .exclude(partner__user=request.user)
        .select_related("partner")
        .order_by("week_start", "partner__name")
    )
    rows = [
        {"sheet": sheet, "totals": timesheets.week_total(sheet)}
        for sheet in waiting[:200]
        if may_decide_timesheet(request.user, sheet)
    ]
    return render(request, "billing/week_queue.html", {"rows": rows, "reject_form": RejectForm()})


class SheetFilter(forms.Form):
    """The timesheets list's filters: a partner whose weeks one sees, a state, a week."""

    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, empty_label="All partners"
    )
    state = forms.ChoiceField(choices=[("", "Any state"), *TimesheetState.choices], required=False)
    week = forms.DateField(
        label="Week of",
        widget=DateInput,
        required=False,
        help_text="Any day of the week.",
    )

    def __init__(self, *args, sheets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.filter(
            pk__in=sheets.values("partner")
        ).order_by("name", "pk")

    def clean_week(self) -> dt.date | None:
        day = self.cleaned_data["week"]
        return None if day is None else timesheets.week_of(_in_years(day))

    def filtered(self, sheets):
        """The weeks the filters keep; every week the user sees while a filter is wrong."""
        if not self.is_valid():
            return sheets
        wanted = self.cleaned_data
        if wanted["partner"] is not None:
            sheets = sheets.filter(partner=wanted["partner"])
        if wanted["state"]:
            sheets = sheets.filter(state=wanted["state"])
        if wanted["week"] is not None:
            sheets = sheets.filter(week_start=wanted["week"])
        return sheets


@login_required
def week_list(request: HttpRequest) -> HttpResponse:
    """Every week the user may see (a practice admin's all), newest first, with filters."""
    if not may_book_time(request.user):
        raise Http404
    visible = Timesheet.objects.for_user(request.user)
    form = SheetFilter(request.GET or None, sheets=visible)
    sheets = (
        form.filtered(visible)
        .select_related("partner")
        .annotate(
            worked=Coalesce(Sum("entries__worked_minutes"), 0),
            billable=Coalesce(Sum("entries__billable_minutes"), 0),
        )
        .order_by("-week_start", "partner__name", "pk")
    )
    page = Paginator(sheets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "billing/week_list.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


CORRECTED = ("worked_on", "start_time", "kind", "billing_status")
TIME_NUMBERS = ("worked_minutes", "billable_minutes")


def _correction(form: CorrectionForm, entry: TimeEntry) -> dict:
    """The minutes and note as before; the day, start, kind and status only when changed."""
    data = {k: v for k, v in form.cleaned_data.items() if v is not None}
    return {k: v for k, v in data.items() if k not in CORRECTED or v not in ("", getattr(entry, k))}


def _after_correction(request, entry: TimeEntry, changed: TimeEntry | None) -> str:
    """The page the correction came from when it is one of ours, else the partner's week."""
    wanted = request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, {request.get_host()}, request.is_secure()
    ):
        return wanted
    carrier = changed or entry
    if entry.partner.user_id == request.user.pk:
        return f"{reverse('billing:my_week')}?day={carrier.worked_on}"
    if carrier.timesheet_id is not None:
        return reverse("billing:week_detail", args=[carrier.timesheet_id])
    return reverse("billing:time_list")


@login_required
def time_correct(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Correct an entry: in place in an open week, by a reversing entry in a locked one."""
    entry = get_object_or_404(
        TimeEntry.objects.for_user(request.user).select_related("partner", "timesheet"),
        pk=entry_id,
    )
    if not may_correct_time(request.user, entry):
        raise PermissionDenied
    form = CorrectionForm(
        request.POST or None,
        initial={name: getattr(entry, name) for name in (*CORRECTED, *TIME_NUMBERS, "note")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.correct_time(
                request.user, entry, _correction(form, entry), source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Time corrected.")
            return redirect(_after_correction(request, entry, changed))
    locked = entry.timesheet is not None and entry.timesheet.is_locked
    return render(
        request,
        "billing/form.html",
        {
            "form": form,
            "title": f"Correct {entry.worked_minutes} min of {entry.partner} on {entry.worked_on}",
            "explain": (
                "The week is locked: a reversing entry and a new one are posted in the "
                "partner's first open week."
                if locked
                else "The entry changes in place."
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def block_top_up(request: HttpRequest, contract_id: int) -> HttpResponse:
    if not may_manage_billing(request.user):
        raise PermissionDenied if request.user.is_network_staff else Http404
    contract = get_object_or_404(
        Contract.objects.for_user(request.user).filter(kind=ContractKind.BLOCK_HOURS),
        pk=contract_id,
    )
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        minutes = int(form.cleaned_data["hours"] * 60)
        try:
            blocks.top_up(
                request.user,
                contract,
                minutes=minutes,
                price=form.cleaned_data["price"],
                note=form.cleaned_data["note"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['hours']} h added to {contract.name}.")
            return redirect("billing:contract_detail", contract.pk)
    return render(
        request,
        "billing/form.html",
        {"form": form, "title": f"Top up {contract.name}", "submit_label": "Add the hours"},
        status=400 if request.method == "POST" else 200,
    )


class DriftForm(forms.Form):
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, empty_label="All practices"
    )


@login_required
def drift_report(request: HttpRequest) -> HttpResponse:
    """Billed vs counted for practice admins, on the page or as CSV (``?format=csv``)."""
    if not may_manage_billing(request.user):
        raise PermissionDenied if request.user.is_network_staff else Http404
    form = DriftForm(request.GET or None)
    practice = form.cleaned_data["practice"] if form.is_valid() else None
    rows = drift.drift(practice)
    if request.GET.get("format") == "csv":
        response = HttpResponse(drift.as_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="billed-vs-counted.csv"'
        return response
    total = sum((row.money for row in rows), start=Decimal("0.00"))
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "billing/drift.html",
        {"form": form, "rows": rows, "total": total, "csv_query": query.urlencode()},
    )
