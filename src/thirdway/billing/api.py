"""API of the business: contracts and their lines, time, invoices (an accounting tool pulls
them and marks them paid) and partners' statements.  Money travels as decimal strings."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import invoicing, services
from thirdway.billing.access import may_book_time, may_see_statement
from thirdway.billing.models import Contract, ContractLine, Invoice, TimeEntry, Unit
from thirdway.billing.statements import statement
from thirdway.clients.models import Client
from thirdway.errors import require
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
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
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
KindName = Literal["managed", "time_materials", "block_hours"]
UnitName = Literal["flat", "device", "user", "hour"]
RoleName = Literal["", "partner", "associate"]
VatName = Literal["S", "Z", "E", "AE"]
StateName = Literal["draft", "approved", "sent", "paid", "credited"]
StatusName = Literal["billable", "do_not_bill", "no_charge"]


def _month(value: str) -> dt.date:
    return dt.date(int(value[:4]), int(value[5:7]), 1)


# --- contracts ---------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    description: str
    unit: str
    role: str
    price: Decimal
    vat_category: str
    vat_rate: Decimal
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
    status: str
    sla_policy_id: int | None
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


class ContractPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    ends_on: dt.date | None = None
    originator: Id | None = None
    originated_on: dt.date | None = None
    referrer: Id | None = None
    block_minutes: int = kept(ge=0, le=10_000_000)
    block_price: Money = kept()
    status: Literal["draft", "active"] = kept()


class LineIn(Payload, extra="forbid"):
    description: str = Field(max_length=200)
    unit: UnitName
    role: RoleName = ""
    price: Money
    vat_category: VatName = "S"
    vat_rate: Percent = Decimal(20)
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
    kind: str
    worked_minutes: int
    billable_minutes: int
    billing_status: str
    note: str
    invoice_line_id: int | None


class TimeIn(Payload, extra="forbid"):
    contract_line: Id
    partner: Id | None = None
    worked_on: dt.date
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
    invoicing.approve_invoice(request.auth, invoice, source=Source.API)
    return _invoices(request).get(pk=invoice.pk)


@router.post("/invoices/{invoice_id}/paid", response=InvoiceOut)
def mark_paid(request, invoice_id: int):
    """The client paid the invoice in full: its shares become payable to the partners."""
    invoice = get_object_or_404(_invoices(request), pk=invoice_id)
    invoicing.mark_paid(request.auth, invoice, source=Source.API)
    return _invoices(request).get(pk=invoice.pk)


# --- statements --------------------------------------------------------------------------------


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


@router.get("/statements/{partner_id}", response=StatementOut)
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
