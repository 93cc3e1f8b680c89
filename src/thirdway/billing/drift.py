"""Billed vs counted: for each per-device and per-user contract line in force, the quantity its
last invoice billed beside what the client's assets or contacts count today, and what the
difference is worth at the line's price (positive: under-billed, the practice's leak).

The last invoice is the newest approved, sent or paid invoice (not a draft, not credited) with a
line of the contract line; a line never invoiced counts as billed 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from thirdway.billing.engine import to_money
from thirdway.billing.models import ContractLine, InvoiceKind, InvoiceLine, InvoiceState, Unit
from thirdway.billing.quantities import count

BILLED_STATES = [InvoiceState.APPROVED, InvoiceState.SENT, InvoiceState.PAID]


@dataclass(frozen=True)
class Drift:
    line: ContractLine
    billed: Decimal
    billed_on: str  # the invoice's number, or "" when never invoiced
    counted: Decimal

    @property
    def difference(self) -> Decimal:
        return self.counted - self.billed

    @property
    def money(self) -> Decimal:
        return to_money(self.difference * self.line.price)


def drift(practice=None, on: dt.date | None = None) -> list[Drift]:
    """Every per-device and per-user line in force on ``on`` (today), of one practice or all."""
    from django.utils import timezone

    on = on or timezone.localdate()
    lines = (
        ContractLine.objects.filter(unit__in=[Unit.DEVICE, Unit.USER], starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .filter(contract__starts_on__lte=on)
        .filter(Q(contract__ends_on__isnull=True) | Q(contract__ends_on__gte=on))
        .select_related("contract__client")
        .order_by("contract__client__name", "contract_id", "pk")
    )
    if practice is not None:
        lines = lines.filter(contract__practice=practice)
    lines = list(lines)
    last: dict[int, InvoiceLine] = {}
    billed = (
        InvoiceLine.objects.filter(
            contract_line__in=[line.pk for line in lines],
            invoice__kind=InvoiceKind.INVOICE,
            invoice__state__in=BILLED_STATES,
        )
        .select_related("invoice")
        .order_by("contract_line_id", "-invoice__month", "-invoice_id", "-pk")
    )
    for invoice_line in billed:
        last.setdefault(invoice_line.contract_line_id, invoice_line)
    rows = []
    for line in lines:
        found = last.get(line.pk)
        rows.append(
            Drift(
                line=line,
                billed=found.quantity if found else Decimal(0),
                billed_on=(found.invoice.number or "") if found else "",
                counted=count(line, on).quantity,
            )
        )
    return rows


HEADER = [
    "client",
    "contract",
    "line",
    "unit",
    "price",
    "last_invoice",
    "billed",
    "counted",
    "difference",
    "difference_amount",
]


def as_csv(rows: list[Drift]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                _cell(row.line.contract.client.name),
                _cell(row.line.contract.name),
                _cell(row.line.description),
                row.line.unit,
                f"{row.line.price:.2f}",
                row.billed_on,
                f"{row.billed:.2f}",
                f"{row.counted:.2f}",
                f"{row.difference:.2f}",
                f"{row.money:.2f}",
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
