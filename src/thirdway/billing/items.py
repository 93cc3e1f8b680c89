"""Expenses and hardware billed to a client: recorded here (the only writer), billed once by
the next invoice run (``proposals`` offers the unbilled ones, ``invoicing`` claims them)."""

from __future__ import annotations

from django.db import transaction

from thirdway.audit.services import create_and_record
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import BillableItem, VatCategory
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
