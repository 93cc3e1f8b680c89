"""Accounting exports of a practice's issued invoices and credit notes, in batches.

Every invoice goes out once per format: a batch claims its invoices (a unique row per invoice
and format while the batch stands), so a second batch of the same month and format holds only
what is new.  Undoing a batch releases its invoices to be exported again; both are audited.
The files themselves are written by ``export_formats``.  A DATEV batch books each invoice on
its client's debtor account (``DebtorAccount``, 10000 to 69999), and is refused while a
client of the month has none.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from thirdway.audit.services import record, update_and_record
from thirdway.billing import export_formats
from thirdway.billing.access import may_manage_billing
from thirdway.billing.invoicing import vat_breakdown
from thirdway.billing.models import (
    DebtorAccount,
    ExportBatch,
    ExportedInvoice,
    ExportFormat,
    ExportSettings,
    Invoice,
    InvoiceKind,
    InvoiceState,
)
from thirdway.billing.services import settings_of
from thirdway.errors import invalid, require

MANAGE = "Only a practice admin exports invoices."
FORMATS_ALLOWED = ", ".join(ExportFormat.values)
MONTH_ALLOWED = "YYYY-MM, from 1900-01 to 2099-12"
MONTH_PATTERN = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")
MAPPING_FIELDS = (
    "receivable_account",
    "revenue_standard",
    "revenue_zero",
    "revenue_exempt",
    "revenue_reverse_charge",
    "tax_standard",
    "tax_zero",
    "tax_exempt",
    "tax_reverse_charge",
    "datev_consultant",
    "datev_client",
    "account_length",
)
EXTENSION = {"quickbooks": "csv", "xero": "csv", "datev": "csv"}


def check_format(value: str | None) -> str:
    if value not in ExportFormat.values:
        raise invalid("format", f"Unknown format {str(value)[:40]!r}.", FORMATS_ALLOWED)
    return value


def parse_month(value: str | None) -> dt.date:
    """The first day of a ``YYYY-MM`` month; a missing or malformed month is refused."""
    if not value or not MONTH_PATTERN.match(value):
        raise invalid("month", "Give the month of the issue dates.", MONTH_ALLOWED)
    return dt.date(int(value[:4]), int(value[5:7]), 1)


def mapping_of(practice) -> ExportSettings:
    found = ExportSettings.objects.filter(practice=practice).first()
    if found is None:
        found, _ = ExportSettings.objects.get_or_create(practice=practice)
    return found


@transaction.atomic
def update_mapping(actor, practice, data: dict, *, source: str) -> ExportSettings:
    require(may_manage_billing(actor), MANAGE)
    return update_and_record(
        actor,
        mapping_of(practice),
        data,
        fields=MAPPING_FIELDS,
        action="billing.export_mapping",
        source=source,
        scope=f"practice:{practice.pk}",
    )


# --- DATEV debtor accounts ---------------------------------------------------------------------

DEBTOR_LOWEST, DEBTOR_HIGHEST = 10000, 69999
DEBTOR_ALLOWED = (
    f"a number from {DEBTOR_LOWEST} to {DEBTOR_HIGHEST} (SKR03/SKR04 debtors), "
    "one per client; empty to remove it"
)
DATEV_ACCOUNT_LENGTH = 4


def debtors_of(practice) -> dict[int, int]:
    """The practice's debtor number of each client that has one, by client id."""
    found = DebtorAccount.objects.filter(practice=practice)
    return dict(found.values_list("client_id", "number"))


def _check_debtor(practice, client, number) -> None:
    if isinstance(number, bool) or not isinstance(number, int):
        raise invalid("debtor_account", "The debtor account is a whole number.", DEBTOR_ALLOWED)
    if not DEBTOR_LOWEST <= number <= DEBTOR_HIGHEST:
        raise invalid(
            "debtor_account",
            f"{number} is outside the debtor accounts of SKR03/SKR04.",
            DEBTOR_ALLOWED,
        )
    taken = (
        DebtorAccount.objects.filter(practice=practice, number=number)
        .exclude(client=client)
        .select_related("client")
        .first()
    )
    if taken is not None:
        raise invalid(
            "debtor_account", f"{number} is {taken.client.name}'s debtor account.", DEBTOR_ALLOWED
        )


@transaction.atomic
def set_debtor(actor, practice, client, number: int | None, *, source: str) -> DebtorAccount | None:
    """Give ``client`` its debtor account in the practice's DATEV bookings (None removes it);
    a number outside 10000-69999 or another client's is refused naming ``debtor_account``."""
    require(may_manage_billing(actor), MANAGE)
    existing = DebtorAccount.objects.select_for_update().filter(practice=practice, client=client)
    before = existing.values_list("number", flat=True).first()
    if number is None:
        existing.delete()
        kept = None
    else:
        _check_debtor(practice, client, number)
        kept, _ = DebtorAccount.objects.update_or_create(
            practice=practice, client=client, defaults={"number": number}
        )
    record(
        actor,
        "billing.debtor_account",
        client,
        source=source,
        scope=f"client:{client.pk}",
        changes={"debtor_account": [before, number]},
    )
    return kept


def check_datev(practice, invoices) -> None:
    """A DATEV batch books each invoice on its client's debtor account: refused, naming the
    field, while a client has none or the account length does not go with five-digit
    debtors."""
    if mapping_of(practice).account_length != DATEV_ACCOUNT_LENGTH:
        raise invalid(
            "account_length",
            "Debtor accounts of five digits (10000 to 69999) go with accounts of 4 digits.",
            f"{DATEV_ACCOUNT_LENGTH} on the account mapping",
        )
    debtors = debtors_of(practice)
    missing = sorted({inv.client.name for inv in invoices if inv.client_id not in debtors})
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise invalid(
            "debtor_account",
            f"No debtor account for {shown}.",
            "a debtor account for each client, on the account mapping page",
        )


def pending(practice, fmt: str, month: dt.date):
    """The issued invoices and credit notes of the month not yet in a standing batch of
    ``fmt``, oldest number first."""
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    taken = ExportedInvoice.objects.filter(format=fmt, undone=False).values("invoice_id")
    return (
        Invoice.objects.filter(practice=practice, issued_on__gte=month, issued_on__lt=end)
        .exclude(state=InvoiceState.DRAFT)
        .exclude(pk__in=taken)
        .select_related("client__billing_details")
        .prefetch_related("lines")
        .order_by("kind", "number", "pk")
    )


def _mapping(found: ExportSettings) -> export_formats.Mapping:
    return export_formats.Mapping(
        receivable=found.receivable_account,
        revenue={
            "S": found.revenue_standard,
            "Z": found.revenue_zero,
            "E": found.revenue_exempt,
            "AE": found.revenue_reverse_charge,
        },
        tax_code={
            "S": found.tax_standard,
            "Z": found.tax_zero,
            "E": found.tax_exempt,
            "AE": found.tax_reverse_charge,
        },
        datev_consultant=found.datev_consultant,
        datev_client=found.datev_client,
        account_length=found.account_length,
    )


def _buyer_vat_id(invoice: Invoice) -> str:
    try:
        return invoice.client.billing_details.vat_id
    except ObjectDoesNotExist:
        return ""


def _doc(invoice: Invoice, payment_days: int, debtor: int | None = None) -> export_formats.Doc:
    lines = list(invoice.lines.all())
    issued = invoice.issued_on or invoice.month
    following = (invoice.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return export_formats.Doc(
        number=invoice.number or "",
        credit=invoice.kind == InvoiceKind.CREDIT_NOTE,
        customer=invoice.client.name,
        issued_on=issued,
        due_on=issued + dt.timedelta(days=payment_days),
        currency=invoice.currency,
        lines=[
            export_formats.DocLine(
                line.description,
                line.quantity,
                line.unit_price,
                line.net,
                line.vat_category,
                vat_rate=line.vat_rate,
                period_end=line.period_end,
            )
            for line in lines
        ],
        groups=vat_breakdown(lines),
        month_end=following - dt.timedelta(days=1),
        buyer_vat_id=_buyer_vat_id(invoice),
        debtor="" if debtor is None else str(debtor),
    )


def render(practice, fmt: str, month: dt.date, invoices, made_at: dt.datetime) -> bytes:
    mapping = _mapping(mapping_of(practice))
    days = settings_of(practice).payment_days
    debtors = debtors_of(practice) if fmt == ExportFormat.DATEV else {}
    docs = [_doc(invoice, days, debtors.get(invoice.client_id)) for invoice in invoices]
    if fmt == ExportFormat.DATEV:
        return export_formats.datev(docs, mapping, month, made_at)
    if fmt == ExportFormat.XERO:
        return export_formats.xero(docs, mapping)
    return export_formats.quickbooks(docs, mapping)


def make_batch(actor, practice, fmt: str, month: dt.date, *, source: str) -> ExportBatch:
    """Export the month's pending invoices in ``fmt``; refused when none is pending."""
    require(may_manage_billing(actor), MANAGE)
    check_format(fmt)
    try:
        with transaction.atomic():
            return _make(actor, practice, fmt, month, source)
    except IntegrityError as error:  # another batch claimed one of them first
        raise invalid(
            "month", "Another export of this month ran at once; try again.", "one at a time"
        ) from error


def _make(actor, practice, fmt: str, month: dt.date, source: str) -> ExportBatch:
    invoices = list(pending(practice, fmt, month))
    if not invoices:
        raise invalid(
            "month",
            f"Nothing to export for {month:%Y-%m} in this format.",
            "a month with issued invoices not exported yet in this format",
        )
    if fmt == ExportFormat.DATEV:
        check_datev(practice, invoices)
    now = timezone.now()
    batch = ExportBatch.objects.create(
        practice=practice,
        format=fmt,
        month=month,
        made_by=actor,
        invoice_count=len(invoices),
        filename=f"{fmt}-{practice.slug}-{month:%Y-%m}-{now:%Y%m%d%H%M%S}.{EXTENSION[fmt]}",
        content=render(practice, fmt, month, invoices, now),
    )
    ExportedInvoice.objects.bulk_create(
        ExportedInvoice(batch=batch, invoice=invoice, format=fmt) for invoice in invoices
    )
    record(
        actor,
        "billing.export",
        batch,
        source=source,
        scope=f"practice:{practice.pk}",
        changes={"invoices": [None, [invoice.number for invoice in invoices]]},
    )
    return batch


@transaction.atomic
def undo_batch(actor, batch: ExportBatch, *, source: str) -> ExportBatch:
    """Release the batch's invoices (they may be exported again); the file stays for the
    record."""
    require(may_manage_billing(actor), MANAGE)
    batch = ExportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.undone_at is not None:
        raise invalid("batch", "This batch was undone already.", "a batch that stands")
    batch.undone_at = timezone.now()
    batch.undone_by = actor
    batch.save(update_fields=["undone_at", "undone_by"])
    ExportedInvoice.objects.filter(batch=batch).update(undone=True)
    record(
        actor,
        "billing.export_undone",
        batch,
        source=source,
        scope=f"practice:{batch.practice_id}",
        changes={"undone_at": [None, batch.undone_at.isoformat()]},
    )
    return batch


def batches_for(user, practice=None):
    """The batches ``user`` may see: a practice admin's, everyone else none."""
    if not may_manage_billing(user) or user is None:
        return ExportBatch.objects.none()
    entries = ExportedInvoice.objects.select_related("invoice").order_by("batch", "pk")
    found = ExportBatch.objects.select_related("practice", "made_by").prefetch_related(
        Prefetch("entries", queryset=entries)
    )
    return found.filter(practice=practice) if practice is not None else found
