"""The API of the month-end: what a practice's invoice run would bill (the preview), the run that
makes the drafts, and approving every draft of the month at once.  Practice admins only, as on
the invoice run page."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from django.conf import settings
from ninja import Field, Router, Schema, Status

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import invoicing, month_end
from thirdway.billing.access import may_manage_billing
from thirdway.billing.connections_apart import MOST_WORKERS
from thirdway.billing.services import MANAGE
from thirdway.billing.statements_api import Month, _month
from thirdway.errors import require
from thirdway.network.models import Practice
from thirdway.payloads import Id, Payload

router = Router()


Workers = Annotated[
    int,
    Field(
        ge=1,
        le=MOST_WORKERS,
        description="processes sharing the work on PostgreSQL, 1 to 4 (SQLite uses one); "
        "left out: the practice's default (THIRDWAY_BILLING_WORKERS)",
    ),
]


class InvoiceRunIn(Payload):
    practice_id: Id
    month: Month
    workers: Workers | None = None


class RunProposedLineOut(Schema):
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    source: str


class RunProposedInvoiceOut(Schema):
    client_id: int
    client: str
    net: Decimal
    lines: list[RunProposedLineOut]


class InvoiceRunPreviewOut(Schema):
    practice_id: int
    month: str
    invoices: list[RunProposedInvoiceOut]


class InvoiceRunOut(Schema):
    id: int
    practice_id: int
    month: str
    invoices_made: int
    lines_made: int


class MonthApprovalOut(Schema):
    practice_id: int
    month: str
    approved: int
    first_number: str | None
    last_number: str | None


def _practice(request, practice_id: Id) -> Practice:
    require(may_manage_billing(request.auth), MANAGE)
    return find_visible(Practice.objects.all(), "practice_id", practice_id)


@router.get("/billing/runs/preview", response=InvoiceRunPreviewOut)
def preview_run(request, practice_id: Id, month: Month):
    """What a run would bill now, per client; nothing is written."""
    practice = _practice(request, practice_id)
    first = _month(month)
    found = invoicing.proposals(practice, first).values()
    return {
        "practice_id": practice.pk,
        "month": f"{first:%Y-%m}",
        "invoices": [
            {
                "client_id": client.pk,
                "client": client.name,
                "net": sum((line.net for line in lines), Decimal("0.00")),
                "lines": [
                    {
                        "description": line.description,
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                        "net": line.net,
                        "source": line.source,
                    }
                    for line in lines
                ],
            }
            for client, lines in found
        ],
    }


@router.post("/billing/runs", response={201: InvoiceRunOut})
def make_run(request, payload: InvoiceRunIn):
    """Make the month's drafts; what an earlier run billed is not billed again."""
    practice = _practice(request, payload.practice_id)
    run = invoicing.run_invoices(
        request.auth,
        practice,
        _month(payload.month),
        source=Source.API,
        workers=payload.workers or settings.BILLING_WORKERS,
    )
    return Status(
        201,
        {
            "id": run.pk,
            "practice_id": practice.pk,
            "month": f"{run.month:%Y-%m}",
            "invoices_made": run.invoices_made,
            "lines_made": run.lines_made,
        },
    )


@router.post("/billing/runs/approve", response=MonthApprovalOut)
def approve_month(request, payload: InvoiceRunIn):
    """Approve every draft of the month that has lines, numbered in the order they were made."""
    practice = _practice(request, payload.practice_id)
    first = _month(payload.month)
    approved = month_end.approve_drafts(
        request.auth,
        practice,
        first,
        source=Source.API,
        workers=payload.workers or settings.BILLING_WORKERS,
    )
    return {
        "practice_id": practice.pk,
        "month": f"{first:%Y-%m}",
        "approved": len(approved),
        "first_number": approved[0].number if approved else None,
        "last_number": approved[-1].number if approved else None,
    }
