"""API of expenses and hardware billed to clients: recorded by a practice admin, billed once by
the next invoice run.  Money travels as decimal strings; a negative price is a 400."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import items
from thirdway.billing.api import Money, Percent, Quantity, VatName
from thirdway.billing.models import BillableItem, Contract
from thirdway.clients.models import Client
from thirdway.network.models import Practice
from thirdway.payloads import Id, Page, Payload, kept
from thirdway.tickets.models import Ticket

router = Router()


class BillingItemOut(Schema):
    id: int
    practice_id: int
    client_id: int
    kind: str
    description: str
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal
    net: Decimal
    vat_category: str
    vat_rate: Decimal
    incurred_on: dt.date
    ticket_id: int | None
    contract_id: int | None
    invoice_line_id: int | None
    state: str

    @staticmethod
    def resolve_state(obj: BillableItem) -> str:
        return items.state_of(obj)


class BillingItemIn(Payload, extra="forbid"):
    practice: Id
    client: Id
    kind: Literal["expense", "hardware"] = "expense"
    description: str = Field(min_length=1, max_length=200)
    quantity: Quantity = Decimal(1)
    unit_cost: Money = Decimal(0)
    unit_price: Money
    vat_category: VatName = "S"
    vat_rate: Percent = Decimal(20)
    incurred_on: dt.date
    ticket: Id | None = None
    contract: Id | None = None


class BillingItemPatch(Payload, extra="forbid"):
    """What changes of an item not billed yet (its practice and client stay); ``ticket`` and
    ``contract`` take null to clear them."""

    kind: Literal["expense", "hardware"] = kept()
    description: str = kept(min_length=1, max_length=200)
    quantity: Quantity = kept()
    unit_cost: Money = kept()
    unit_price: Money = kept()
    vat_category: VatName = kept()
    vat_rate: Percent = kept()
    incurred_on: dt.date = kept()
    ticket: Id | None = None
    contract: Id | None = None


def _items(request):
    return BillableItem.objects.for_user(request.auth).select_related("client")


@router.get("/billing/items", response=list[BillingItemOut])
@paginate(Page)
def list_items(
    request, client: Id | None = None, state: Literal["unbilled", "invoiced"] | None = None
):
    """Expenses and hardware one may see, newest first; ``state`` narrows to those not billed
    yet or invoiced."""
    found = _items(request)
    if client is not None:
        found = found.filter(client_id=client)
    if state:
        found = found.filter(invoice_line__isnull=state == "unbilled")
    return found


@router.get("/billing/items/{item_id}", response=BillingItemOut)
def get_item(request, item_id: int):
    return get_object_or_404(_items(request), pk=item_id)


@router.post("/billing/items", response={201: BillingItemOut})
def record_item(request, payload: BillingItemIn):
    """Record an expense or hardware item (practice admins); the next run bills it once."""
    data = payload.model_dump()
    clients = Client.objects.for_user(request.auth)
    data["client"] = find_visible(clients, "client", data["client"])
    data["practice"] = find_visible(Practice.objects.all(), "practice", data["practice"])
    data["ticket"] = find_visible(Ticket.objects.for_user(request.auth), "ticket", data["ticket"])
    contracts = Contract.objects.for_user(request.auth)
    data["contract"] = find_visible(contracts, "contract", data["contract"])
    made = items.record_item(request.auth, source=Source.API, **data)
    return Status(201, _items(request).get(pk=made.pk))


@router.patch("/billing/items/{item_id}", response=BillingItemOut)
def change_item(request, item_id: int, payload: BillingItemPatch):
    """Change an item not billed yet (practice admins); a billed one is a 400 naming
    ``invoice_line``: take its line off the draft first."""
    item = get_object_or_404(_items(request), pk=item_id)
    data = payload.model_dump(exclude_unset=True)
    if data.get("ticket") is not None:
        tickets = Ticket.objects.for_user(request.auth)
        data["ticket"] = find_visible(tickets, "ticket", data["ticket"])
    if data.get("contract") is not None:
        contracts = Contract.objects.for_user(request.auth)
        data["contract"] = find_visible(contracts, "contract", data["contract"])
    items.change_item(request.auth, item, data, source=Source.API)
    return _items(request).get(pk=item.pk)


@router.delete("/billing/items/{item_id}", response={204: None})
def delete_item(request, item_id: int):
    """Delete an item not billed yet (practice admins); a billed one is a 400 naming
    ``invoice_line``."""
    item = get_object_or_404(_items(request), pk=item_id)
    items.delete_item(request.auth, item, source=Source.API)
    return Status(204, None)
