"""API of partners' capital accounts: terms, buy-in, the pool's allocation and the buy-out.

A practice admin sees and changes every account; a partner reads their own; anyone else finds
nothing (404).  Money travels as decimal strings; a bad value is a 400 naming the field, and
nothing is written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import capital, instalments
from thirdway.billing.access import may_manage_billing
from thirdway.billing.api import Money, Percent
from thirdway.billing.models import BuyOutInstalment, CapitalTerms, PoolAllocation
from thirdway.billing.services import MANAGE
from thirdway.billing.statements_api import Month, _month
from thirdway.errors import require
from thirdway.network.models import Partner, Practice
from thirdway.payloads import Id, Payload

router = Router()

Units = Annotated[int, Field(ge=1, le=1_000_000, description="1 to 1,000,000 units")]
VestingMonths = Annotated[int, Field(ge=0, le=120, description="0 to 120 months")]


class CapitalEntryOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    memo: str
    invoice_id: int | None
    amount: Decimal  # what the partner gains: the leg negated (capital is a credit)


class InstalmentOut(Schema):
    number: int
    due_on: dt.date
    amount: Decimal
    paid: bool
    paid_at: dt.datetime | None
    transaction_id: int | None


class CapitalOut(Schema):
    id: int
    practice_id: int
    partner_id: int
    partner_name: str
    currency: str
    buy_in: Decimal
    buy_in_method: str
    withhold_percent: Decimal
    units: int
    vested_units: Decimal
    vesting_starts_on: dt.date
    vesting_months: int
    balance: Decimal
    buy_in_paid: Decimal
    buy_in_left: Decimal
    bought_out: bool
    buy_out_amount: Decimal
    buy_out_paid: Decimal
    buy_out_outstanding: Decimal
    instalments_by_standing_order: bool
    instalments: list[InstalmentOut]
    entries: list[CapitalEntryOut]


class CapitalTermsIn(Payload, extra="forbid"):
    practice: Id
    partner: Id
    buy_in: Money = Decimal(0)
    buy_in_method: Literal["at_once", "withheld"] = "at_once"
    withhold_percent: Percent = Decimal(0)
    units: Units = 1
    vesting_starts_on: dt.date
    vesting_months: VestingMonths = 48


class BuyInIn(Payload, extra="forbid"):
    amount: Money


class CapitalReturnIn(Payload, extra="forbid"):
    amount: Money


class InstalmentsIn(Payload, extra="forbid"):
    instalments: Annotated[int, Field(ge=1, le=120, description="1 to 120 instalments")]
    first_due_on: dt.date
    every_months: Annotated[int, Field(ge=1, le=12, description="1 to 12 months")] = 1
    amounts: Annotated[
        list[Money] | None,
        Field(
            max_length=120,
            description="One amount per instalment, adding up to the buy-out; left out: "
            "equal cents, the cents left over to the first instalments",
        ),
    ] = None
    standing_order: bool = Field(
        False, description="Paid by standing order: each instalment posted paid on its due day"
    )


class StandingOrderIn(Payload, extra="forbid"):
    on: bool = Field(description="true: paid by standing order from now on; false: stopped")


class BuyOutOut(Schema):
    capital_id: int
    balance: Decimal
    vested_units: Decimal
    retained_pool: Decimal
    total_units: int
    unit_value: Decimal
    units_part: Decimal
    amount: Decimal
    currency: str


class AllocationIn(Payload, extra="forbid"):
    practice: Id
    month: Month


class AllocationPartOut(Schema):
    partner_id: int
    vested_units: Decimal
    amount: Decimal


class AllocationOut(Schema):
    id: int | None
    practice_id: int
    month: str
    amount: Decimal
    transaction_id: int | None
    parts: list[AllocationPartOut]


def _schedule_out(terms: CapitalTerms) -> dict:
    amount = instalments.buy_out_amount(terms)
    found = instalments.schedule(terms)
    rows = found.instalments if found else []
    return {
        "buy_out_amount": amount,
        "buy_out_paid": found.paid if found else Decimal("0.00"),
        "buy_out_outstanding": found.outstanding if found else Decimal("0.00"),
        "instalments": [
            {
                "number": i.number,
                "due_on": i.due_on,
                "amount": i.amount,
                "paid": i.paid_id is not None,
                "paid_at": i.paid.at if i.paid_id else None,
                "transaction_id": i.paid_id,
            }
            for i in rows
        ],
    }


def _out(terms: CapitalTerms) -> dict:
    found = capital.summary(terms)
    return {
        **_schedule_out(terms),
        "id": terms.pk,
        "practice_id": terms.practice_id,
        "partner_id": terms.partner_id,
        "partner_name": str(terms.partner),
        "currency": found.currency,
        "buy_in": terms.buy_in,
        "buy_in_method": terms.buy_in_method,
        "withhold_percent": terms.withhold_percent,
        "units": terms.units,
        "vested_units": found.vested_shown,
        "vesting_starts_on": terms.vesting_starts_on,
        "vesting_months": terms.vesting_months,
        "balance": found.balance,
        "buy_in_paid": found.buy_in_paid,
        "buy_in_left": found.buy_in_left,
        "bought_out": terms.bought_out_id is not None,
        "instalments_by_standing_order": terms.instalments_by_standing_order,
        "entries": [
            {
                "id": leg.pk,
                "at": leg.transaction.at,
                "kind": leg.transaction.kind,
                "memo": leg.transaction.memo,
                "invoice_id": leg.transaction.invoice_id,
                "amount": -leg.amount,
            }
            for leg in capital.entries(terms)
        ],
    }


def _accounts(request):
    return CapitalTerms.objects.for_user(request.auth).select_related("practice", "partner")


def _visible(request, capital_id: int) -> CapitalTerms:
    return get_object_or_404(_accounts(request), pk=capital_id)


@router.get("/billing/capital", response=list[CapitalOut])
def list_capital(request, practice: Id | None = None):
    """The capital accounts one may see: a practice admin's all, a partner's their own."""
    found = _accounts(request)
    if practice is not None:
        found = found.filter(practice_id=practice)
    return [_out(terms) for terms in found[:500]]


@router.get("/billing/capital/{capital_id}", response=CapitalOut)
def get_capital(request, capital_id: int):
    return _out(_visible(request, capital_id))


@router.post("/billing/capital", response={200: CapitalOut, 201: CapitalOut})
def set_capital_terms(request, payload: CapitalTermsIn):
    """Agree a partner's terms in a practice (201), or change them (200); practice admins."""
    require(may_manage_billing(request.auth), MANAGE)
    data = payload.model_dump()
    data["practice"] = find_visible(Practice.objects.all(), "practice", data["practice"])
    data["partner"] = find_visible(Partner.objects.all(), "partner", data["partner"])
    existed = CapitalTerms.objects.filter(
        practice=data["practice"], partner=data["partner"]
    ).exists()
    terms = capital.set_terms(request.auth, source=Source.API, **data)
    return Status(200 if existed else 201, _out(_visible(request, terms.pk)))


@router.post("/billing/capital/{capital_id}/buy-in", response={201: CapitalOut})
def record_buy_in(request, capital_id: int, payload: BuyInIn):
    """The partner paid (part of) their buy-in; at most what is left of it."""
    terms = _visible(request, capital_id)
    capital.record_buy_in(request.auth, terms, payload.amount, source=Source.API)
    return Status(201, _out(_visible(request, capital_id)))


@router.post("/billing/capital/{capital_id}/return", response={201: CapitalOut})
def return_capital(request, capital_id: int, payload: CapitalReturnIn):
    """Part of the partner's capital goes back to them (payable); at most the balance."""
    terms = _visible(request, capital_id)
    capital.return_capital(request.auth, terms, payload.amount, source=Source.API)
    return Status(201, _out(_visible(request, capital_id)))


def _buy_out_out(terms: CapitalTerms, figures) -> dict:
    return {
        "capital_id": terms.pk,
        "balance": figures.balance,
        "vested_units": capital.units_shown(figures.vested),
        "retained_pool": figures.pool,
        "total_units": figures.total_units,
        "unit_value": figures.unit_value,
        "units_part": figures.units_part,
        "amount": figures.amount,
        "currency": capital.settings_of(terms.practice).currency,
    }


@router.get("/billing/capital/{capital_id}/buy-out", response=BuyOutOut)
def preview_buy_out(request, capital_id: int):
    """What the partner would be paid on retiring today (nothing is written)."""
    terms = _visible(request, capital_id)
    return _buy_out_out(terms, capital.preview_buy_out(terms))


@router.post("/billing/capital/{capital_id}/buy-out", response={201: CapitalOut})
def record_buy_out(request, capital_id: int):
    """The partner retires: the account closes and the buy-out becomes payable to them."""
    terms = _visible(request, capital_id)
    capital.record_buy_out(request.auth, terms, source=Source.API)
    return Status(201, _out(_visible(request, capital_id)))


@router.post("/billing/capital/{capital_id}/instalments", response={201: CapitalOut})
def agree_instalments(request, capital_id: int, payload: InstalmentsIn):
    """Agree how a bought-out partner's buy-out is paid: 1 to 120 instalments from a day on or
    after the buy-out, every 1 to 12 months (practice admins; once per buy-out)."""
    terms = _visible(request, capital_id)
    instalments.agree(
        request.auth,
        terms,
        count=payload.instalments,
        first_due_on=payload.first_due_on,
        every_months=payload.every_months,
        amounts=payload.amounts,
        standing_order=payload.standing_order,
        source=Source.API,
    )
    return Status(201, _out(_visible(request, capital_id)))


@router.post("/billing/capital/{capital_id}/instalments/standing-order", response=CapitalOut)
def set_standing_order(request, capital_id: int, payload: StandingOrderIn):
    """Start or stop paying a buy-out's instalments by standing order: while on, the clock
    posts each instalment paid on its due day (practice admins)."""
    terms = _visible(request, capital_id)
    instalments.set_standing_order(request.auth, terms, on=payload.on, source=Source.API)
    return _out(_visible(request, capital_id))


@router.post(
    "/billing/capital/{capital_id}/instalments/{number}/paid",
    response={200: CapitalOut, 201: CapitalOut},
)
def pay_instalment(request, capital_id: int, number: int):
    """Record an instalment paid: 201 when posted, 200 when it was paid before (posted once)."""
    terms = _visible(request, capital_id)
    found = get_object_or_404(
        BuyOutInstalment.objects.for_user(request.auth), terms=terms, number=number
    )
    _, posted = instalments.pay(request.auth, found, source=Source.API)
    return Status(201 if posted else 200, _out(_visible(request, capital_id)))


def _allocation_out(practice, month: dt.date) -> dict:
    made = PoolAllocation.objects.filter(practice=practice, month=month).first()
    if made is None:
        amount, found = capital.preview_allocation(practice, month)
        parts = [
            {"partner_id": t.partner_id, "vested_units": capital.units_shown(units), "amount": part}
            for t, units, part in found
        ]
    else:
        amount, parts = made.amount, []
        if made.posted_id:
            vested = made.posted.facts.get("vested", {})
            legs = made.posted.legs.filter(account__kind="capital").select_related("account")
            parts = [
                {
                    "partner_id": leg.account.partner_id,
                    "vested_units": capital.units_shown(
                        Fraction(vested.get(str(leg.account.partner_id), "0"))
                    ),
                    "amount": -leg.amount,
                }
                for leg in legs
            ]
    return {
        "id": made.pk if made else None,
        "practice_id": practice.pk,
        "month": f"{month:%Y-%m}",
        "amount": amount,
        "transaction_id": made.posted_id if made else None,
        "parts": parts,
    }


@router.get("/billing/pool-allocations/{practice_id}/{month}", response=AllocationOut)
def get_allocation(request, practice_id: int, month: Month):
    """The allocation of a month, or its preview when not made yet (practice admins; anyone
    else finds nothing)."""
    if not may_manage_billing(request.auth):
        raise Http404
    practice = get_object_or_404(Practice.objects.all(), pk=practice_id)
    return _allocation_out(practice, _month(month))


@router.post("/billing/pool-allocations", response={200: AllocationOut, 201: AllocationOut})
def allocate_pool(request, payload: AllocationIn):
    """Allocate the retained pool up to the month's end by vested units: 201 when made, 200
    with the allocation made before (once per practice and month)."""
    require(may_manage_billing(request.auth), MANAGE)
    practice = find_visible(Practice.objects.all(), "practice", payload.practice)
    month = _month(payload.month)
    _, created = capital.allocate(request.auth, practice, month, source=Source.API)
    return Status(201 if created else 200, _allocation_out(practice, month))
