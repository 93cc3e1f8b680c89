"""The exports page: pick a practice, format and month, see how many invoices are pending,
make the batch, download it, undo it; and the practice's account mapping."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.billing import exports
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import DebtorAccount, ExportFormat, ExportSettings
from thirdway.clients.models import Client
from thirdway.network.models import Practice
from thirdway.web.forms import add_service_errors


def _admin(request: HttpRequest) -> None:
    """A practice admin's page: 403 for the rest of the network, 404 for anyone else."""
    if not may_manage_billing(request.user):
        raise PermissionDenied if request.user.is_network_staff else Http404


class ExportForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.all(), empty_label=None)
    format = forms.ChoiceField(choices=ExportFormat.choices)
    month = forms.CharField(
        max_length=7,
        error_messages={
            "required": f"Give the month of the issue dates ({exports.MONTH_ALLOWED})."
        },
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def clean_month(self):
        try:
            return exports.parse_month(self.cleaned_data["month"])
        except ValidationError as error:
            raise ValidationError(
                f"Give the month of the issue dates ({exports.MONTH_ALLOWED})."
            ) from error


class MappingForm(forms.ModelForm):
    class Meta:
        model = ExportSettings
        fields = list(exports.MAPPING_FIELDS)

    def _post_clean(self) -> None:
        """Model validation belongs to the service."""


def _redirect(practice_id: int, fmt: str, month: str) -> HttpResponse:
    response = redirect("billing:exports")
    response["Location"] += f"?practice={practice_id}&format={fmt}&month={month}"
    return response


@login_required
def export_page(request: HttpRequest) -> HttpResponse:
    _admin(request)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = ExportForm(data, initial={"practice": Practice.objects.first()})
    pending = None
    status = 200
    if form.is_bound and form.is_valid():
        practice = form.cleaned_data["practice"]
        fmt = form.cleaned_data["format"]
        month = form.cleaned_data["month"]
        if request.method == "POST":
            try:
                batch = exports.make_batch(request.user, practice, fmt, month, source=Source.WEB)
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                messages.success(request, f"Exported {batch.invoice_count} invoice(s).")
                return _redirect(practice.pk, fmt, f"{month:%Y-%m}")
        pending = exports.pending(practice, fmt, month).count()
    elif form.is_bound:
        status = 400
    batches = exports.batches_for(request.user)[:50]
    chosen = form.cleaned_data.get("practice") if form.is_bound and form.is_valid() else None
    context = {
        "form": form,
        "pending": pending,
        "batches": batches,
        "mapping_practice": chosen or Practice.objects.first(),
    }
    return render(request, "billing/exports.html", context, status=status)


@login_required
def export_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    _admin(request)
    batch = get_object_or_404(exports.batches_for(request.user), pk=batch_id)
    charset = "windows-1252" if batch.format == ExportFormat.DATEV else "utf-8"
    response = HttpResponse(bytes(batch.content), content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


@login_required
@require_POST
def export_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    _admin(request)
    batch = get_object_or_404(exports.batches_for(request.user), pk=batch_id)
    try:
        exports.undo_batch(request.user, batch, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    else:
        messages.success(request, "Batch undone: its invoices may be exported again.")
    return redirect("billing:exports")


class DebtorForm(forms.Form):
    """A client's debtor account in the practice's DATEV bookings; empty removes it."""

    client = forms.ModelChoiceField(queryset=Client.objects.order_by("name"))
    debtor_account = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=99_999_999,
        label="Debtor account",
        help_text=exports.DEBTOR_ALLOWED,
    )


def _mapping_page(request, practice, form, debtor_form, status: int = 200) -> HttpResponse:
    debtors = DebtorAccount.objects.filter(practice=practice).select_related("client")
    context = {
        "form": form,
        "debtor_form": debtor_form,
        "debtors": debtors,
        "practice": practice,
        "practices": Practice.objects.all(),
    }
    return render(request, "billing/export_mapping.html", context, status=status)


@login_required
def mapping_page(request: HttpRequest, practice_id: int) -> HttpResponse:
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    form = MappingForm(request.POST or None, instance=exports.mapping_of(practice))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            exports.update_mapping(request.user, practice, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("billing:export_mapping", practice.pk)
    return _mapping_page(request, practice, form, DebtorForm(prefix="debtor"))


@login_required
@require_POST
def debtor_save(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Set (or, empty, remove) a client's debtor account; refused beside the field."""
    _admin(request)
    practice = get_object_or_404(Practice, pk=practice_id)
    debtor_form = DebtorForm(request.POST, prefix="debtor")
    if debtor_form.is_valid():
        client = debtor_form.cleaned_data["client"]
        number = debtor_form.cleaned_data["debtor_account"]
        try:
            exports.set_debtor(request.user, practice, client, number, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(debtor_form, error)
        else:
            messages.success(request, f"{client.name}: debtor account saved.")
            return redirect("billing:export_mapping", practice.pk)
    form = MappingForm(instance=exports.mapping_of(practice))
    return _mapping_page(request, practice, form, debtor_form, status=400)
