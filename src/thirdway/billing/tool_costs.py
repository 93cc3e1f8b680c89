"""A practice's shared tool costs: kept by its admins, charged to each client's revenue when the
month's invoice is approved, before the split (see ``engine/tools.py`` for why and how).

The charge posts one transaction per invoice: revenue debited, the practice's *shared tool
costs* account credited, one leg per tool.  Each line's split then runs on the line's net less
its part, so the tools and the shares add up to the invoice to the cent.  A client's tools are
charged once per month: an invoice of a month already charged (and not credited) charges none.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q

from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.billing import ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine.tools import UNIT_NAMES, Deduction, deduct
from thirdway.billing.engine.tools import ToolCost as EngineTool
from thirdway.billing.models import (
    AccountKind,
    Holder,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    ToolCost,
    TransactionKind,
)
from thirdway.billing.quantities import DEVICE_KINDS
from thirdway.billing.sharing_models import TOOLS_PER_PRACTICE
from thirdway.clients.models import Asset, Client, Contact
from thirdway.errors import invalid, require

TOOL_FIELDS = ["name", "unit", "rate"]
MANAGE = "Only a practice admin may manage shared tool costs."


def _scope(practice) -> str:
    return f"practice:{practice.pk}"


def _check_name(practice, name: str, tool: ToolCost | None = None) -> None:
    same = ToolCost.objects.filter(practice=practice, name__iexact=name.strip())
    if tool is not None:
        same = same.exclude(pk=tool.pk)
    if same.exists():
        raise invalid("name", f"The practice has a tool named {name!r} already.", "a new name")


@transaction.atomic
def add_tool(actor, practice, *, name: str, unit: str, rate: Decimal, source: str) -> ToolCost:
    """Add a tool to the practice's costs (at most 50 a practice, names unique)."""
    require(may_manage_billing(actor), MANAGE)
    if ToolCost.objects.filter(practice=practice).count() >= TOOLS_PER_PRACTICE:
        raise invalid(
            "name", "The practice has 50 tools already.", f"at most {TOOLS_PER_PRACTICE} tools"
        )
    _check_name(practice, name)
    tool = ToolCost(practice=practice, name=name.strip(), unit=unit, rate=rate)
    return create_and_record(
        actor,
        tool,
        fields=TOOL_FIELDS,
        action="billing.tool.add",
        source=source,
        scope=_scope(practice),
    )


@transaction.atomic
def change_tool(actor, tool: ToolCost, data: dict, *, source: str) -> ToolCost:
    """Change a tool's name, unit or rate; months already charged keep what they charged."""
    require(may_manage_billing(actor), MANAGE)
    if data.get("name") is not None:
        data = {**data, "name": data["name"].strip()}
        _check_name(tool.practice, data["name"], tool)
    return update_and_record(
        actor,
        tool,
        data,
        fields=TOOL_FIELDS,
        action="billing.tool.change",
        source=source,
        scope=_scope(tool.practice),
    )


@transaction.atomic
def remove_tool(actor, tool: ToolCost, *, source: str) -> None:
    """Take a tool off the practice's costs (charges already posted stay in the ledger)."""
    require(may_manage_billing(actor), MANAGE)
    before = {name: str(getattr(tool, name)) for name in TOOL_FIELDS}
    record(
        actor,
        "billing.tool.remove",
        tool,
        source=source,
        scope=_scope(tool.practice),
        changes={name: [value, None] for name, value in before.items()},
    )
    tool.delete()


def unit_counts(client_id: int) -> dict[str, int]:
    """The client's units today: machines watched by an agent or a check, devices among its
    assets (not cloud services or software), active contacts, and 1 for the client itself."""
    assets = Asset.objects.filter(client_id=client_id)
    watched = set(
        assets.filter(agents__revoked_at__isnull=True, agents__isnull=False).values_list(
            "pk", flat=True
        )
    )
    watched |= set(assets.filter(checks__isnull=False).values_list("pk", flat=True))
    # Agents are the monitoring room's (a floor up): read through the client's relation.
    loose = Q(agents__asset__isnull=True, agents__revoked_at__isnull=True)
    loose_agents = Client.objects.filter(pk=client_id).aggregate(n=Count("agents", filter=loose))[
        "n"
    ]
    return {
        "monitored_device": len(watched) + loose_agents,
        "managed_device": assets.filter(kind__in=DEVICE_KINDS).count(),
        "user": Contact.objects.filter(client_id=client_id, is_active=True).count(),
        "client": 1,
    }


def _charged_already(invoice: Invoice) -> bool:
    # Race-free: approval holds the practice's number series row (``take_number``) until it
    # commits, so two approvals of one practice never read this at the same time.
    return LedgerTransaction.objects.filter(
        practice=invoice.practice_id,
        kind=TransactionKind.TOOL_COSTS,
        invoice__client=invoice.client_id,
        invoice__month=invoice.month,
        reversed_by__isnull=True,
    ).exists()


def deduction_for(invoice: Invoice, lines: list[InvoiceLine]) -> Deduction | None:
    """What the practice's tools cost the invoice's client this month, and each line's part;
    None when there are no tools or the month is charged already."""
    tools = [
        EngineTool(tool.name, tool.rate, tool.unit)
        for tool in ToolCost.objects.filter(practice=invoice.practice_id).order_by("name", "pk")
    ]
    if not tools or _charged_already(invoice):
        return None
    found = deduct(tools, unit_counts(invoice.client_id), [line.net for line in lines])
    return found if found.total else None


def _facts(found: Deduction) -> list[dict]:
    return [
        {
            "name": charge.name,
            "unit": UNIT_NAMES[charge.unit],
            "count": charge.count,
            "rate": str(charge.rate),
            "full": str(charge.full),
            "amount": str(charge.amount),
        }
        for charge in found.charges
    ]


def charge_tool_costs(context, lines: list[InvoiceLine]) -> None:
    """Post the month's tool costs of the invoice's client (once per client and month) and
    keep each line's part in ``context.deducted`` for its split."""
    invoice = context.invoice
    found = deduction_for(invoice, lines)
    if found is None:
        return
    practice = invoice.practice
    tools = ledger.account(practice, AccountKind.TOOLS, Holder.PRACTICE)
    revenue = ledger.account(practice, AccountKind.REVENUE, Holder.PRACTICE)
    entries = [ledger.Entry(revenue, found.total)]
    entries += [ledger.Entry(tools, -charge.amount, "tool_costs") for charge in found.charges]
    plain = _facts(found)
    posted = ledger.post(
        practice,
        TransactionKind.TOOL_COSTS,
        f"{invoice.number}: shared tool costs of {invoice.client}",
        entries,
        invoice=invoice,
        facts={"tools": plain, "total": str(found.total)},
    )
    for line, part in zip(lines, found.per_line, strict=True):
        if part:
            context.deducted[line.pk] = {
                "amount": str(part),
                "transaction": posted.pk,
                "tools": plain,
            }
