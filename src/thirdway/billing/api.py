"""API of the business: contracts and their lines, time, invoices (an accounting tool pulls
them and marks them paid) and partners' statements.  Money travels as decimal strings."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import blocks, drift, invoicing, issuing, services
from thirdway.billing.access import may_book_time, may_manage_billing
from thirdway.billing.models import (
    Contract,
    ContractKind,
    ContractLine,
    Invoice,
    TimeEntry,
    Unit,
)
from thirdway.clients.models import Client
from thirdway.errors import refuse_nulls, require
from thirdway.network.models import Partner, Practice
from thirdway.payloads import Id, Page, Payload, kept

router = Router()
LONGEST_AMOUNT = 20


def _short(value: object) -> object:
    """An amount sent as text is at most 20 characters, before Decimal reads it."""
    if isinstance(value, str) and len(value) > LONGEST_AMOUNT:
        raise PydanticCustomError(
            "amount_too_long",
            f"The amount is longer than {LONGEST_AMOUNT} characters.",
            {"allowed": f"at most {LONGEST_AMOUNT} characters"},
        )
    return value


def _amount(maximum: int | None = None) -> WithJsonSchema:
    number: dict = {"type": "number", "minimum": 0}
    if maximum is not None:
        number["maximum"] = maximum
    text = {"type": "string", "maxLength": LONGEST_AMOUNT, "pattern": r"^\d+(\.\d{1,2})?$"}
    return WithJsonSchema({"anyOf": [number, text]})


# Money and percentages: never negative, whole cents, sent as a number or a decimal string.
Money = Annotated[
    Decimal, BeforeValidator(_short), Field(ge=0, max_digits=14, decimal_places=2), _amount()
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_short),
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    _amount(100),
]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_short),
    Field(gt=0, le=100_000, max_digits=12, decimal_places=2),
    _amount(100_000),
]
Multiplier = Annotated[
    Decimal,
    BeforeValidator(_short),
    Field(ge=1, le=5, max_digits=3, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 1, "maximum": 5},
                {"type": "string", "maxLength": LONGEST_AMOUNT, "pattern": r"^[1-5](\.\d{1,2})?$"},
            ]
        }
    ),
]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
KindName = Literal["managed", "time_materials", "block_hours", "project"]
UnitName = Literal["flat", "device", "user", "hour"]
RoleName = Literal["", "partner", "associate"]
VatName = Literal["S", "Z", "E", "AE"]
StateName = Literal["draft", "approved", "sent", "paid", "credited"]
StatusName = Literal["billable", "do_not_bill", "no_charge"]


# --- contracts ---------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    description: str
    unit: str
    role: str
    price: Decimal
    vat_category: str
    vat_rate: Decimal
    quantity: Decimal
    timing: str
    after_hours_multiplier: Decimal | None
    starts_on: dt.date
    ends_on: dt.date | None


class ContractOut(Schema):
    id: int
    client_id: int
    practice_id: int
    kind: str
    name: str
    starts_on: dt.date
    ends_on: dt.date | None
    originator_id: int | None
    originated_on: dt.date | None
    referrer_id: int | None
    block_minutes: int
    block_price: Decimal
    warn_at_percent: int
    fixed_price: Decimal
    budget_minutes: int
    status: str
    sla_policy_id: int | None
    renewal_months: int
    notice_days: int
    renews_on: dt.date | None
    notice_by: dt.date | None
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj: Contract) -> list[ContractLine]:
        return list(obj.lines.all())


class ContractIn(Payload, extra="forbid"):
    client: Id
    practice: Id
    kind: KindName
    name: str = Field(max_length=150)
    starts_on: dt.date
    ends_on: dt.date | None = None
    originator: Id | None = None
    originated_on: dt.date | None = None
    referrer: Id | None = None
    block_minutes: int = Field(0, ge=0, le=10_000_000)
    block_price: Money = Decimal(0)
    warn_at_percent: int = Field(80, ge=1, le=100)
    fixed_price: Money = Field(Decimal(0), description="A fixed-fee project's price.")
    budget_minutes: int = Field(0, ge=0, le=10_000_000, description="A project's budget.")
    renewal_months: int = Field(0, ge=0, le=120)
    notice_days: int = Field(0, ge=0, le=730)


class ContractPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    ends_on: dt.date | None = None
    originator: Id | None = None
    originated_on: dt.date | None = None
    referrer: Id | None = None
    block_minutes: int = kept(ge=0, le=10_000_000)
    block_price: Money = kept()
    warn_at_percent: int = kept(ge=1, le=100)
    fixed_price: Money = kept()
    budget_minutes: int = kept(ge=0, le=10_000_000)
    status: Literal["draft", "active"] = kept()
    renewal_months: int = kept(ge=0, le=120)
    notice_days: int = kept(ge=0, le=730)


class LineIn(Payload, extra="forbid"):
    description: str = Field(max_length=200)
    unit: UnitName
    role: RoleName = ""
    price: Money
    vat_category: VatName = "S"
    vat_rate: Percent = Decimal(20)
    quantity: Quantity = Decimal(1)
    timing: Literal["arrears", "advance"] = "arrears"
    after_hours_multiplier: Multiplier | None = Field(
        None, description="Time and materials: time after hours costs the price times this."
    )
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


def _contracts(request):
    return Contract.objects.for_user(request.auth).prefetch_related("lines")


def _partner(field: str, pk):
    return find_visible(Partner.objects.all(), field, pk, noun="partner")


@router.get("/contracts", response=list[ContractOut])
@paginate(Page)
def list_contracts(request, client: Id | None = None):
    contracts = _contracts(request)
    return contracts.filter(client_id=client) if client is not None else contracts


@router.get("/contracts/{contract_id}", response=ContractOut)
def get_contract(request, contract_id: int):
    return get_object_or_404(_contracts(request), pk=contract_id)


@router.post("/contracts", response={201: ContractOut})
def create_contract(request, payload: ContractIn):
    data = payload.model_dump()
    data["client"] = find_visible(Client.objects.for_user(request.auth), "client", data["client"])
    data["practice"] = find_visible(Practice.objects.all(), "practice", data["practice"])
    for field in ("originator", "referrer"):
        data[field] = _partner(field, data[field])
    contract = services.create_contract(request.auth, source=Source.API, **data)
    return Status(201, _contracts(request).get(pk=contract.pk))


@router.patch("/contracts/{contract_id}", response=ContractOut)
def update_contract(request, contract_id: int, payload: ContractPatch):
    contract = get_object_or_404(_contracts(request), pk=contract_id)
    data = payload.model_dump(exclude_unset=True)
    for field in ("originator", "referrer"):
        if field in data:
            data[field] = _partner(field, data[field])
    services.update_contract(request.auth, contract, data, source=Source.API)
    return _contracts(request).get(pk=contract.pk)


@router.post("/contracts/{contract_id}/lines", response={201: LineOut})
def add_contract_line(request, contract_id: int, payload: LineIn):
    contract = get_object_or_404(_contracts(request), pk=contract_id)
    data = payload.model_dump(exclude_none=True)
    line = services.add_contract_line(request.auth, contract, source=Source.API, **data)
    return Status(201, line)


# --- time --------------------------------------------------------------------------------------


class TimeOut(Schema):
    id: int
    partner_id: int
    contract_line_id: int
    ticket_id: int | None
    worked_on: dt.date
    start_time: dt.time | None
    kind: str
    worked_minutes: int
    billable_minutes: int
    billing_status: str
    note: str
    invoice_line_id: int | None
    after_hours_line_id: int | None
    timesheet_id: int | None
    reverses_id: int | None
    article_id: int | None


class TimeIn(Payload, extra="forbid"):
    contract_line: Id
    partner: Id | None = None
    worked_on: dt.date
    start_time: dt.time | None = Field(
        None, description="When the work began, in the partner's time zone (HH:MM)."
    )
    kind: Literal["work", "travel", "onsite"] = "work"
    worked_minutes: Minutes
    billable_minutes: Minutes | None = None
    billing_status: StatusName = "billable"
    note: str = Field("", max_length=500)


@router.get("/time-entries", response=list[TimeOut])
@paginate(Page)
def list_time(request, client: Id | None = None):
    entries = TimeEntry.objects.for_user(request.auth)
    if client is not None:
        entries = entries.filter(contract_line__contract__client_id=client)
    return entries


@router.post("/time-entries", response={201: TimeOut})
def record_time(request, payload: TimeIn):
    require(may_book_time(request.auth), "You may not book time.")
    data = payload.model_dump(exclude_none=True)
    hourly = ContractLine.objects.filter(
        contract__in=Contract.objects.for_user(request.auth), unit=Unit.HOUR
    )
    data["contract_line"] = find_visible(
        hourly, "contract_line", data["contract_line"], noun="hourly contract line"
    )
    if "partner" in data:
        data["partner"] = _partner("partner", data["partner"])
    return Status(201, services.record_time(request.auth, source=Source.API, **data))


class BillingCorrectionIn(Payload, extra="forbid"):
    """What to change of an entry: in place in an open week, by a reversing entry and a new
    one in a locked week."""

    worked_on: dt.date = kept()
    start_time: dt.time = kept()
    kind: Literal["work", "travel", "onsite"] = kept()
    worked_minutes: Minutes = kept()
    billable_minutes: Minutes = kept()
    billing_status: StatusName = kept()
    note: str = kept(max_length=500)


class BillingCorrectionOut(Schema):
    entry: TimeOut | None = Field(description="The entry now carrying the time (none: zero).")
    reversal: TimeOut | None = Field(description="The reversing entry, for a locked week.")


@router.post("/time-entries/{entry_id}/correct", response=BillingCorrectionOut)
def correct_time(request, entry_id: int, payload: BillingCorrectionIn):
    entry = get_object_or_404(TimeEntry.objects.for_user(request.auth), pk=entry_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name, value in data.items() if value is None)
    changed = services.correct_time(request.auth, entry, data, source=Source.API)
    reversal = TimeEntry.objects.filter(reverses=entry).first()
    return {"entry": changed, "reversal": reversal}


# --- block hours -------------------------------------------------------------------------------


class BillingBlockOut(Schema):
    contract_id: int
    bought_hours: Decimal
    used_hours: Decimal
    left_hours: Decimal
    percent_used: int
    warn_at_percent: int
    warning: bool
    after_hours_extra_hours: Decimal = Field(
        description="Hours burnt beyond the time worked after hours (included in used_hours)."
    )
    after_hours_multipliers: list[Decimal] = Field(
        description="The multipliers time after hours burns at (the lines', else the "
        "practice's, above 1; empty: none)."
    )


def _block_out(state: blocks.Burn) -> dict:
    return {
        "contract_id": state.contract.pk,
        "bought_hours": state.bought_hours,
        "used_hours": state.used_hours,
        "after_hours_extra_hours": state.after_hours_extra_hours,
        "after_hours_multipliers": list(state.multipliers),
        "left_hours": state.left_hours,
        "percent_used": state.percent_used,
        "warn_at_percent": state.contract.warn_at_percent,
        "warning": state.warning,
    }


def _block(request, contract_id: int) -> Contract:
    contracts = Contract.objects.for_user(request.auth).filter(kind=ContractKind.BLOCK_HOURS)
    return get_object_or_404(contracts, pk=contract_id)


@router.get("/contracts/{contract_id}/block", response=BillingBlockOut)
def get_block(request, contract_id: int):
    """A block-hours contract's burn-down: hours bought (top-ups included), used and left."""
    return _block_out(blocks.burn(_block(request, contract_id)))


class BillingTopUpIn(Payload, extra="forbid"):
    minutes: int = Field(ge=1, le=blocks.TOP_UP_MOST)
    price: Money
    note: str = Field("", max_length=blocks.NOTE_LENGTH)


class BillingTopUpOut(Schema):
    id: int
    contract_id: int
    minutes: int
    price: Decimal
    note: str
    added_at: dt.datetime
    block: BillingBlockOut


@router.post("/contracts/{contract_id}/top-ups", response={201: BillingTopUpOut})
def top_up_block(request, contract_id: int, payload: BillingTopUpIn):
    """Add prepaid hours to a block (practice admins); the next invoice run bills the price."""
    contract = _block(request, contract_id)
    added = blocks.top_up(request.auth, contract, source=Source.API, **payload.model_dump())
    return Status(
        201,
        {
            "id": added.pk,
            "contract_id": contract.pk,
            "minutes": added.minutes,
            "price": added.price,
            "note": added.note,
            "added_at": added.added_at,
            "block": _block_out(blocks.burn(contract)),
        },
    )


# --- billed vs counted -------------------------------------------------------------------------


class BillingDriftOut(Schema):
    contract_line_id: int
    client_id: int
    client_name: str
    contract_name: str
    description: str
    unit: str
    price: Decimal
    last_invoice: str
    billed: Decimal
    counted: Decimal
    difference: Decimal
    difference_amount: Decimal


@router.get("/billing/drift", response=list[BillingDriftOut])
def billed_vs_counted(request, practice: Id | None = None):
    """Per-device and per-user lines in force: the quantity of their last invoice beside what
    the client's assets or contacts count today (practice admins)."""
    require(may_manage_billing(request.auth), "Only a practice admin reads this report.")
    chosen = None
    if practice is not None:
        chosen = find_visible(Practice.objects.all(), "practice", practice)
    return [
        {
            "contract_line_id": row.line.pk,
            "client_id": row.line.contract.client_id,
            "client_name": row.line.contract.client.name,
            "contract_name": row.line.contract.name,
            "description": row.line.description,
            "unit": row.line.unit,
            "price": row.line.price,
            "last_invoice": row.billed_on,
            "billed": row.billed,
            "counted": row.counted,
            "difference": row.difference,
            "difference_amount": row.money,
        }
        for row in drift.drift(chosen)
    ]


# --- invoices ----------------------------------------------------------------------------------


class InvoiceLineOut(Schema):
    id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    vat_category: str
    vat_rate: Decimal
    quantity_source: str
    period_start: dt.date | None
    period_end: dt.date | None


class VatOut(Schema):
    category: str
    rate: Decimal
    base: Decimal
    tax: Decimal


class InvoiceOut(Schema):
    id: int
    number: str | None
    kind: str
    state: str
    client_id: int
    practice_id: int
    credits_id: int | None
    currency: str
    month: dt.date
    issued_on: dt.date | None
    net: Decimal
    tax: Decimal
    gross: Decimal
    lines: list[InvoiceLineOut]
    vat: list[VatOut]

    @staticmethod
    def resolve_lines(obj: Invoice) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_vat(obj: Invoice) -> list[dict]:
        return [
            {"category": c, "rate": r, "base": b, "tax": t}
            for c, r, b, t in invoicing.vat_breakdown(obj.lines.all())
        ]


def _invoices(request):
    return Invoice.objects.for_user(request.auth).prefetch_related("lines")


@router.get("/invoices", response=list[InvoiceOut])
@paginate(Page)
def list_invoices(request, state: StateName | None = None, client: Id | None = None):
    invoices = _invoices(request)
    if state:
        invoices = invoices.filter(state=state)
    return invoices.filter(client_id=client) if client is not None else invoices


@router.get("/invoices/{invoice_id}", response=InvoiceOut)
def get_invoice(request, invoice_id: int):
    return get_object_or_404(_invoices(request), pk=invoice_id)


@router.post("/invoices/{invoice_id}/approve", response=InvoiceOut)
def approve_invoice(request, invoice_id: int):
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    issuing.approve_invoice(request.auth, invoice, source=Source.API)
    return _invoices(request).get(pk=invoice.pk)


@router.post("/invoices/{invoice_id}/paid", response=InvoiceOut)
def mark_paid(request, invoice_id: int):
    """The client paid the invoice in full: its shares become payable to the partners."""
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    issuing.mark_paid(request.auth, invoice, source=Source.API)
    return _invoices(request).get(pk=invoice.pk)
