"""From an approved invoice line to the partners' shares in the ledger.

The facts behind a line (who brought the client, whose time or resolved tickets delivered it,
what the desk resolved) are gathered here and handed to the pure engine; the shares it returns
are posted as one balanced transaction per line, with the facts kept for the drill-down.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from django.db.models import Q

from thirdway.billing import ledger
from thirdway.billing.engine import LineFacts, Recipient, SplitRules, split_line
from thirdway.billing.models import (
    AccountKind,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    TimeEntry,
    TransactionKind,
)
from thirdway.network.models import PartnerKind
from thirdway.tickets.models import Ticket

# The practice's revenue account, looked up like a recipient's (holder "practice").
PRACTICE_REVENUE = Recipient("practice")


def _month(invoice: Invoice) -> tuple[dt.date, dt.date]:
    first = invoice.month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _years(since: dt.date | None, on: dt.date) -> int:
    if since is None:
        return 0
    years = on.year - since.year - ((on.month, on.day) < (since.month, since.day))
    return max(0, years)


class TimeRow(NamedTuple):
    """What a split reads of a time entry, read as a plain row; ``after_hours``: the entry's
    minutes outside business hours an after-hours line billed (None behind any other line)."""

    pk: int
    partner_id: int
    worked_minutes: int
    after_hours: int | None = None

    @property
    def delivered(self) -> int:
        """The entry's weight in the line's delivery share: the minutes the line billed after
        hours, else the minutes worked."""
        return self.worked_minutes if self.after_hours is None else self.after_hours


@dataclass
class InvoiceContext:
    """What every line of one invoice shares: the month's resolved tickets and time of the
    client with the practice, and the accounts looked up so far (each read once)."""

    invoice: Invoice
    known: dict = field(default_factory=dict)
    # Each line's part of the month's shared tool costs (``tool_costs.charge_tool_costs``).
    deducted: dict = field(default_factory=dict)
    # The time each line billed, by line id, when read for many invoices at once
    # (:func:`contexts_of`); else each line's own ``time_entries``.
    line_time: dict[int, list[TimeRow]] | None = None

    @cached_property
    def tickets(self) -> list[tuple[int, int | None, str | None]]:
        first, last = _month(self.invoice)
        return list(
            Ticket.objects.filter(
                client=self.invoice.client_id,
                practice=self.invoice.practice_id,
                resolved_at__date__range=(first, last),
            )
            .order_by("pk")
            .values_list("pk", "assignee_id", "assignee__kind")
        )

    @cached_property
    def month_time(self) -> list[TimeRow]:
        first, last = _month(self.invoice)
        rows = (
            TimeEntry.objects.filter(
                contract_line__contract__client=self.invoice.client_id,
                contract_line__contract__practice=self.invoice.practice_id,
                worked_on__range=(first, last),
            )
            .order_by("pk")
            .values_list("pk", "partner_id", "worked_minutes")
        )
        return [TimeRow(*row) for row in rows]


def _weighed(rows, minutes: dict[str, int] | None) -> list[TimeRow]:
    """The line's time entries as rows, each with its minutes after hours when the line is an
    after-hours line (``minutes``: its ``after_hours_minutes``)."""
    if minutes is None:
        return [TimeRow(row.pk, row.partner_id, row.worked_minutes) for row in rows]
    return [
        TimeRow(row.pk, row.partner_id, row.worked_minutes, minutes.get(str(row.pk), 0))
        for row in rows
    ]


def _time_behind(context: InvoiceContext, line: InvoiceLine) -> list[TimeRow]:
    """The line's own time (a time line's by ``invoice_line``, an after-hours line's by
    ``after_hours_line``: the entries with minutes outside business hours, weighed by them), or
    for a monthly charge the month's time on the client's contracts with the practice."""
    if context.line_time is not None:
        return context.line_time.get(line.pk) or context.month_time
    own = list(line.time_entries.all()) or list(line.after_hours_entries.all())
    return _weighed(own, line.after_hours_minutes) if own else context.month_time


def facts_of(
    context: InvoiceContext, line: InvoiceLine, rules: SplitRules
) -> tuple[LineFacts, dict]:
    """The engine's facts for one line, and the same as JSON with the ids behind them; the
    amount split is the line's net less its part of the month's shared tool costs."""
    invoice = context.invoice
    tools = context.deducted.get(line.pk)
    contract = line.contract_line.contract if line.contract_line_id else None
    originator = (contract.originator_id if contract else None) or invoice.client.lead_partner_id
    since = contract.originated_on if contract and contract.originator_id else None
    referrer = contract.referrer_id if contract else None
    first, _ = _month(invoice)
    tickets = context.tickets
    desk = sum(1 for _, _, kind in tickets if kind == PartnerKind.DESK)
    delivery: dict[str, int] = defaultdict(int)
    entries: list[int] = []
    after_hours: dict[str, int] = {}
    if rules.delivery_basis == "time":
        for entry in _time_behind(context, line):
            delivery[str(entry.partner_id)] += entry.delivered
            entries.append(entry.pk)
            if entry.after_hours is not None:
                after_hours[str(entry.pk)] = entry.after_hours
    else:
        resolved = Counter(
            str(assignee) for _, assignee, kind in tickets if assignee and kind != PartnerKind.DESK
        )
        delivery.update(resolved)
    facts = LineFacts(
        net=line.net - Decimal(tools["amount"]) if tools else line.net,
        originator=str(originator) if originator else None,
        years_since_origination=_years(since, first),
        referrer=str(referrer) if referrer else None,
        delivery=dict(delivery),
        tickets_resolved=len(tickets),
        desk_resolved=desk,
    )
    plain: dict[str, Any] = {
        "basis": rules.delivery_basis,
        "originator": originator,
        "originated_on": since.isoformat() if since else None,
        "years_since_origination": facts.years_since_origination,
        "referrer": referrer,
        "delivery": facts.delivery,
        "time_entries": entries,
        "tickets": [pk for pk, _, _ in tickets],
        "tickets_resolved": len(tickets),
        "desk_resolved": desk,
        "rules": {k: str(v) for k, v in rules.percentages().items()},
    }
    if after_hours:
        plain["after_hours_minutes"] = after_hours
    if tools:
        plain["tool_costs"] = tools
    return facts, plain


def shares_of(context: InvoiceContext, line: InvoiceLine, rules: SplitRules):
    """The engine's shares of one line and the facts behind them, or None for a line of zero."""
    if not line.net:
        return None
    facts, plain = facts_of(context, line, rules)
    if not facts.net:
        return None  # the month's tool costs took the whole line
    return split_line(rules, facts), plain


def split_entries(context: InvoiceContext, line: InvoiceLine, shares) -> list[ledger.Entry]:
    """The legs of a line's split: revenue debited (the line's net less its part of the month's
    tool costs, which the shares add up to), each recipient's owed account credited."""
    practice, known = context.invoice.practice, context.known
    revenue = ledger.share_account(practice, PRACTICE_REVENUE, AccountKind.REVENUE, known=known)
    entries = [ledger.Entry(revenue, sum((share.amount for share in shares), Decimal(0)))]
    for share in shares:
        owed = ledger.share_account(practice, share.recipient, known=known)
        entries.append(ledger.Entry(owed, -share.amount, share.rule))
    return entries


def split_memo(invoice: Invoice, line: InvoiceLine) -> str:
    return f"{invoice.number}: {line.description}"


def split_invoice_line(
    context: InvoiceContext, line: InvoiceLine, rules: SplitRules
) -> LedgerTransaction | None:
    """Post the line's shares as owed: revenue debited, each recipient's owed account credited."""
    found = shares_of(context, line, rules)
    if found is None:
        return None
    shares, plain = found
    invoice = context.invoice
    return ledger.post(
        invoice.practice,
        TransactionKind.SPLIT,
        split_memo(invoice, line),
        split_entries(context, line, shares),
        invoice=invoice,
        line=line,
        facts=plain,
    )


def contexts_of(
    invoices: list[Invoice], known: dict, lines: list[int] | None = None
) -> dict[int, InvoiceContext]:
    """The contexts of many invoices of one practice and month, by invoice id: the month's
    resolved tickets and time of all their clients, and the time their ``lines`` (ids) billed,
    read in one query each as plain rows, not per invoice; ``known`` (the accounts looked up)
    shared by all."""
    if not invoices:
        return {}
    practice_id = invoices[0].practice_id
    first, last = _month(invoices[0])
    if any(i.practice_id != practice_id or _month(i) != (first, last) for i in invoices):
        raise ValueError("The invoices are of one practice and month.")
    clients = sorted({invoice.client_id for invoice in invoices})
    tickets: dict[int, list] = defaultdict(list)
    for client_id, *ticket in (
        Ticket.objects.filter(
            client__in=clients, practice=practice_id, resolved_at__date__range=(first, last)
        )
        .order_by("pk")
        .values_list("client_id", "pk", "assignee_id", "assignee__kind")
    ):
        tickets[client_id].append(tuple(ticket))
    time: dict[int, list[TimeRow]] = defaultdict(list)
    for client_id, *entry in (
        TimeEntry.objects.filter(
            contract_line__contract__client__in=clients,
            contract_line__contract__practice=practice_id,
            worked_on__range=(first, last),
        )
        .order_by("pk")
        .values_list("contract_line__contract__client_id", "pk", "partner_id", "worked_minutes")
    ):
        time[client_id].append(TimeRow(*entry))
    line_time = None if lines is None else _time_of_lines(lines)
    found = {}
    for invoice in invoices:
        context = InvoiceContext(invoice, known, line_time=line_time)
        # what the cached properties would read, read for all at once
        vars(context).update(tickets=tickets[invoice.client_id], month_time=time[invoice.client_id])
        found[invoice.pk] = context
    return found


def _time_of_lines(lines: list[int]) -> dict[int, list[TimeRow]]:
    """The time each of the lines billed, by line id, in the order of a line's
    ``time_entries``: a time line's by ``invoice_line``, an after-hours line's by
    ``after_hours_line`` (weighed by their minutes after hours, read for those lines only)."""
    wanted = set(lines)
    by_line: dict[int, list[TimeRow]] = defaultdict(list)
    after_hours: dict[int, list[TimeRow]] = defaultdict(list)
    rows = (
        TimeEntry.objects.filter(Q(invoice_line__in=lines) | Q(after_hours_line__in=lines))
        .order_by(*TimeEntry._meta.ordering)
        .values_list("invoice_line_id", "after_hours_line_id", "pk", "partner_id", "worked_minutes")
    )
    for line_id, after_id, *entry in rows:
        if line_id in wanted:
            by_line[line_id].append(TimeRow(*entry))
        if after_id in wanted:
            after_hours[after_id].append(TimeRow(*entry))
    minutes = dict(
        InvoiceLine.objects.filter(pk__in=list(after_hours), after_hours_minutes__isnull=False)
        .values_list("pk", "after_hours_minutes")
        .order_by()
    )
    found = {line: by_line.get(line) or after_hours[line] for line in {*by_line, *after_hours}}
    for line, weights in minutes.items():
        found[line] = _weighed(found[line], weights)
    return found


def make_payable(split: LedgerTransaction) -> LedgerTransaction:
    """The client paid: each share owed becomes payable to its recipient."""
    entries = []
    for leg in split.legs.select_related("account"):
        if leg.account.kind != AccountKind.OWED:
            continue
        payable = ledger.account(
            split.practice, AccountKind.PAYABLE, leg.account.holder, partner=leg.account.partner
        )
        entries += [ledger.Entry(leg.account, -leg.amount, leg.rule)]
        entries += [ledger.Entry(payable, leg.amount, leg.rule)]
    return ledger.post(
        split.practice,
        TransactionKind.PAYABLE,
        f"Paid: {split.memo}",
        entries,
        invoice=split.invoice,
        line=split.invoice_line,
        facts={"split": split.pk},
    )
