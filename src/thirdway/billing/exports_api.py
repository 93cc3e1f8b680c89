"""The API of accounting exports (practice admins): the invoices pending for a month and
format, batches made, their files, undo, and the practice's account mapping."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import exports
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import DebtorAccount, ExportBatch, ExportFormat
from thirdway.clients.models import Client
from thirdway.errors import require
from thirdway.network.models import Practice
from thirdway.payloads import Id, Payload, kept

router = Router()
Text = Annotated[str, Field(max_length=20)]


class BillingExportIn(Payload):
    practice: Id
    format: Text = Field(description=exports.FORMATS_ALLOWED)
    month: Text = Field(description=exports.MONTH_ALLOWED)


class BillingExportPendingOut(Schema):
    practice_id: int
    format: str
    month: str
    count: int
    invoice_numbers: list[str]


class BillingExportBatchOut(Schema):
    id: int
    practice_id: int
    format: str
    month: str
    invoice_count: int
    filename: str
    made_at: dt.datetime
    undone_at: dt.datetime | None
    invoice_numbers: list[str]


class BillingExportMappingOut(Schema):
    practice_id: int
    receivable_account: str
    revenue_standard: str
    revenue_zero: str
    revenue_exempt: str
    revenue_reverse_charge: str
    tax_standard: str
    tax_zero: str
    tax_exempt: str
    tax_reverse_charge: str
    datev_consultant: int
    datev_client: int
    account_length: int


class BillingExportMappingPatch(Payload, extra="forbid"):
    receivable_account: str = kept(min_length=1, max_length=20)
    revenue_standard: str = kept(min_length=1, max_length=20)
    revenue_zero: str = kept(min_length=1, max_length=20)
    revenue_exempt: str = kept(min_length=1, max_length=20)
    revenue_reverse_charge: str = kept(min_length=1, max_length=20)
    tax_standard: str = kept(max_length=40)
    tax_zero: str = kept(max_length=40)
    tax_exempt: str = kept(max_length=40)
    tax_reverse_charge: str = kept(max_length=40)
    datev_consultant: int = kept(ge=1001, le=9999999)
    datev_client: int = kept(ge=1, le=99999)
    account_length: int = kept(ge=4, le=8)


def _admin(request) -> None:
    require(may_manage_billing(request.auth), exports.MANAGE)


def _practice(pk: int) -> Practice:
    return find_visible(Practice.objects.all(), "practice", pk)


def _batch_out(batch: ExportBatch) -> dict:
    # Prefetched with the invoices by ``exports.batches_for``: one query for the whole list.
    numbers = [entry.invoice.number for entry in batch.entries.all()]
    return {
        "id": batch.pk,
        "practice_id": batch.practice_id,
        "format": batch.format,
        "month": f"{batch.month:%Y-%m}",
        "invoice_count": batch.invoice_count,
        "filename": batch.filename,
        "made_at": batch.made_at,
        "undone_at": batch.undone_at,
        "invoice_numbers": numbers,
    }


@router.get("/billing/exports/pending", response=BillingExportPendingOut)
def export_pending(request, practice: Id, format: Text = "", month: Text = ""):
    """The issued invoices and credit notes of the month not yet exported in the format."""
    _admin(request)
    chosen = _practice(practice)
    fmt = exports.check_format(format)
    first = exports.parse_month(month)
    found = list(exports.pending(chosen, fmt, first).values_list("number", flat=True))
    return {
        "practice_id": chosen.pk,
        "format": fmt,
        "month": month,
        "count": len(found),
        "invoice_numbers": found,
    }


@router.get("/billing/exports", response=list[BillingExportBatchOut])
def export_batches(request, practice: Id | None = None):
    """The batches made, newest first (at most 200)."""
    _admin(request)
    chosen = _practice(practice) if practice is not None else None
    return [_batch_out(batch) for batch in exports.batches_for(request.auth, chosen)[:200]]


@router.post("/billing/exports", response={201: BillingExportBatchOut})
def export_make(request, payload: BillingExportIn):
    """Export the month's pending invoices in one batch (400 when none is pending)."""
    _admin(request)
    chosen = _practice(payload.practice)
    fmt = exports.check_format(payload.format)
    month = exports.parse_month(payload.month)
    batch = exports.make_batch(request.auth, chosen, fmt, month, source=Source.API)
    return Status(201, _batch_out(exports.batches_for(request.auth).get(pk=batch.pk)))


@router.get("/billing/exports/{batch_id}/file")
def export_file(request, batch_id: int):
    """The batch's file (text/csv; DATEV's in Windows-1252)."""
    batch = get_object_or_404(exports.batches_for(request.auth), pk=batch_id)
    charset = "windows-1252" if batch.format == ExportFormat.DATEV else "utf-8"
    response = HttpResponse(bytes(batch.content), content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


@router.post("/billing/exports/{batch_id}/undo", response=BillingExportBatchOut)
def export_undo(request, batch_id: int):
    """Undo the batch: its invoices may be exported again (audited)."""
    batch = get_object_or_404(exports.batches_for(request.auth), pk=batch_id)
    exports.undo_batch(request.auth, batch, source=Source.API)
    return _batch_out(exports.batches_for(request.auth).get(pk=batch.pk))


@router.get("/billing/export-mappings/{practice_id}", response=BillingExportMappingOut)
def export_mapping(request, practice_id: int):
    _admin(request)
    practice = get_object_or_404(Practice.objects.all(), pk=practice_id)
    found = exports.mapping_of(practice)
    return {
        "practice_id": practice.pk,
        **{name: getattr(found, name) for name in exports.MAPPING_FIELDS},
    }


@router.patch("/billing/export-mappings/{practice_id}", response=BillingExportMappingOut)
def export_mapping_update(request, practice_id: int, payload: BillingExportMappingPatch):
    _admin(request)
    practice = get_object_or_404(Practice.objects.all(), pk=practice_id)
    data = payload.dict(exclude_unset=True)
    found = exports.update_mapping(request.auth, practice, data, source=Source.API)
    return {
        "practice_id": practice.pk,
        **{name: getattr(found, name) for name in exports.MAPPING_FIELDS},
    }


class BillingDebtorOut(Schema):
    client_id: int
    client_name: str
    debtor_account: int | None = Field(
        description="The client's debtor account in DATEV bookings (Konto); null: none."
    )


class BillingDebtorIn(Payload, extra="forbid"):
    debtor_account: int | None = Field(
        ge=0, le=99_999_999, description=f"{exports.DEBTOR_ALLOWED} (null removes it)."
    )


def _debtor_out(client, number: int | None) -> dict:
    return {"client_id": client.pk, "client_name": client.name, "debtor_account": number}


@router.get("/billing/export-mappings/{practice_id}/debtors", response=list[BillingDebtorOut])
def export_debtors(request, practice_id: int):
    """The practice's debtor accounts, by number (practice admins)."""
    _admin(request)
    practice = get_object_or_404(Practice.objects.all(), pk=practice_id)
    found = DebtorAccount.objects.filter(practice=practice).select_related("client")
    return [_debtor_out(debtor.client, debtor.number) for debtor in found]


@router.put("/billing/export-mappings/{practice_id}/debtors/{client_id}", response=BillingDebtorOut)
def export_debtor_set(request, practice_id: int, client_id: int, payload: BillingDebtorIn):
    """Set a client's debtor account (10000 to 69999, another client's number refused), or
    remove it with null (practice admins; audited)."""
    _admin(request)
    practice = get_object_or_404(Practice.objects.all(), pk=practice_id)
    client = get_object_or_404(Client.objects.all(), pk=client_id)
    number = payload.debtor_account
    exports.set_debtor(request.auth, practice, client, number, source=Source.API)
    return _debtor_out(client, number)
