"""Expenses and hardware billed to a client: recorded here (the only writer), billed once by
the next invoice run (``proposals`` offers the unbilled ones, ``invoicing`` claims them)."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import create_and_record, record, snapshot, update_and_record
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import BillableItem, InvoiceLine, VatCategory
from thirdway.billing.services import MANAGE, settings_of
from thirdway.errors import invalid, require

ITEM_FIELDS = [
    "practice",
    "client",
    "kind",
    "description",
    "quantity",
    "unit_cost",
    "unit_price",
    "vat_category",
    "vat_rate",
    "incurred_on",
    "ticket",
    "contract",
]


# What changes of an item not billed yet: all but its practice and client (record another).
CHANGEABLE = [name for name in ITEM_FIELDS if name not in ("practice", "client")]
BILLED = "an item not billed yet (take its line off the draft first)"


def claim_of(item_id: int) -> str:
    return f"item:{item_id}"


def _check(item: BillableItem) -> None:
    for name in ("unit_price", "unit_cost", "quantity"):
        value = getattr(item, name)
        if value is not None and value < 0:
            raise invalid(
                name,
                f"The {name.replace('_', ' ')} is negative.",
                "0 or more (money goes back to a client by a credit note)",
            )
    item.full_clean()
    if item.vat_category == VatCategory.STANDARD and item.vat_rate <= 0:
        raise invalid("vat_rate", "The standard category has a rate above 0.", "above 0 to 100")
    if item.vat_category != VatCategory.STANDARD and item.vat_rate != 0:
        raise invalid(
            "vat_rate", f"Category {item.vat_category} is taxed at 0 %.", "0 for this category"
        )
    if item.ticket_id is not None and item.ticket.client_id != item.client_id:
        raise invalid("ticket", "The ticket is another client's.", "a ticket of this client")
    if item.contract_id is not None and (
        item.contract.client_id != item.client_id or item.contract.practice_id != item.practice_id
    ):
        raise invalid("contract", "The contract is another client's.", "a contract of this client")


@transaction.atomic
def record_item(actor, *, source: str, **data) -> BillableItem:
    """Record an expense or hardware item to bill the client on the next run."""
    require(may_manage_billing(actor), MANAGE)
    item = BillableItem(created_by=actor, **data)
    _check(item)
    settings_of(item.practice)
    return create_and_record(
        actor,
        item,
        fields=ITEM_FIELDS,
        action="billing.item",
        source=source,
        scope=f"client:{item.client_id}",
    )


def _unbilled(item: BillableItem) -> BillableItem:
    """The item locked, or a 400 naming ``invoice_line`` when a run billed it (its line claims
    it, on a draft or beyond)."""
    item = BillableItem.objects.select_for_update().get(pk=item.pk)
    if (
        item.invoice_line_id is not None
        or InvoiceLine.objects.filter(claim=claim_of(item.pk)).exists()
    ):
        raise invalid("invoice_line", f"{item.description} is billed already.", BILLED)
    return item


@transaction.atomic
def change_item(actor, item: BillableItem, data: dict, *, source: str) -> BillableItem:
    """Change an item not billed yet (its practice and client stay); refused, naming the
    field, when billed or when the change is invalid, with nothing written."""
    require(may_manage_billing(actor), MANAGE)
    item = _unbilled(item)
    candidate = BillableItem.objects.get(pk=item.pk)
    for name, value in data.items():
        if name in CHANGEABLE:
            setattr(candidate, name, value)
    _check(candidate)
    return update_and_record(
        actor,
        item,
        data,
        fields=CHANGEABLE,
        action="billing.item.change",
        source=source,
        scope=f"client:{item.client_id}",
    )


@transaction.atomic
def delete_item(actor, item: BillableItem, *, source: str) -> None:
    """Delete an item not billed yet (once billed: take its line off the draft first)."""
    require(may_manage_billing(actor), MANAGE)
    item = _unbilled(item)
    before = snapshot(item, ITEM_FIELDS)
    record(
        actor,
        "billing.item.delete",
        item,
        source=source,
        scope=f"client:{item.client_id}",
        changes={name: [value, None] for name, value in before.items()},
    )
    item.delete()


def link_claimed(invoice) -> None:
    """Point each item the invoice's lines claimed at its line (the run, after adding)."""
    claimed = invoice.lines.filter(claim__startswith="item:").values_list("pk", "claim")
    for line_id, claim in claimed:
        item_id = int(claim.split(":", 1)[1])
        BillableItem.objects.filter(pk=item_id, invoice_line__isnull=True).update(
            invoice_line_id=line_id
        )


def state_of(item: BillableItem) -> str:
    if item.invoice_line_id is None:
        return "unbilled"
    return "invoiced"
