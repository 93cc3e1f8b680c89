"""The API of a partner's statement: every share posted to them in a month, with the rule and
the invoice line behind it.  Mounted beside the billing room's other endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from thirdway.billing.access import may_see_statement
from thirdway.billing.statements import statement
from thirdway.network.models import Partner

router = Router()

# A month of the years a practice bills in: year 0 is no date, and December 9999 has no next
# month to end it.
Month = Annotated[
    str,
    Field(
        pattern=r"^(19|20)\d\d-(0[1-9]|1[0-2])$",
        max_length=7,
        description="YYYY-MM, from 1900-01 to 2099-12",
    ),
]


def _month(value: str) -> dt.date:
    return dt.date(int(value[:4]), int(value[5:7]), 1)


class ShareOut(Schema):
    id: int
    at: dt.datetime
    invoice_id: int | None
    invoice_number: str | None
    invoice_line_id: int | None
    description: str
    rule: str
    state: str
    amount: Decimal
    currency: str


class StatementOut(Schema):
    partner_id: int
    month: str
    owed: dict[str, Decimal]
    payable: dict[str, Decimal]
    shares: list[ShareOut]


# The operation id it had in billing/api.py, so clients generated from the OpenAPI document keep
# their method name.
@router.get(
    "/statements/{partner_id}",
    response=StatementOut,
    operation_id="thirdway_billing_api_get_statement",
)
def get_statement(request, partner_id: int, month: Month):
    partner = get_object_or_404(Partner.objects.all(), pk=partner_id)
    if not may_see_statement(request.auth, partner):
        raise Http404
    found = statement(partner, _month(month))
    shares = [
        {
            "id": row.leg.pk,
            "at": row.transaction.at,
            "invoice_id": row.transaction.invoice_id,
            "invoice_number": row.transaction.invoice.number if row.transaction.invoice else None,
            "invoice_line_id": row.transaction.invoice_line_id,
            "description": row.transaction.memo,
            "rule": row.leg.rule,
            "state": row.leg.account.kind,
            "amount": row.amount,
            "currency": row.leg.account.currency,
        }
        for row in found.rows
    ]
    return {
        "partner_id": partner.pk,
        "month": month,
        "owed": found.owed,
        "payable": found.payable,
        "shares": shares,
    }
