"""A partner's monthly statement: every share posted to them in the month, each traced to its
invoice line, its rule and the facts behind it, with the totals owed and payable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from thirdway.billing.models import Account, AccountKind, Holder, Leg


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    pk: int
    number: str | None


@dataclass(frozen=True, slots=True)
class LineRef:
    pk: int
    description: str


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """What a statement shows of a share's ledger transaction (read as a plain row)."""

    pk: int
    at: dt.datetime
    memo: str
    kind: str
    invoice: InvoiceRef | None
    invoice_line: LineRef | None

    @property
    def invoice_id(self) -> int | None:
        return self.invoice.pk if self.invoice else None

    @property
    def invoice_line_id(self) -> int | None:
        return self.invoice_line.pk if self.invoice_line else None


@dataclass(frozen=True, slots=True)
class LegRow:
    """What a statement shows of a leg: its id (its share's page), rule, amount and account."""

    pk: int
    rule: str
    amount: Decimal
    account: Account


@dataclass(frozen=True)
class StatementRow:
    leg: LegRow
    amount: Decimal  # what the partner gains (shares are credits, so the leg negated)
    transaction: TransactionRow

    @property
    def state(self) -> str:
        return self.leg.account.get_kind_display()


@dataclass
class Statement:
    partner: object
    month: dt.date
    rows: list[StatementRow] = field(default_factory=list)
    # plain dicts: a template's ``owed.items`` would create an "items" key in a defaultdict
    owed: dict[str, Decimal] = field(default_factory=dict)
    payable: dict[str, Decimal] = field(default_factory=dict)
    by_rule: dict[tuple[str, str], Decimal] = field(default_factory=dict)


def month_range(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def statement(partner, month: dt.date) -> Statement:
    """The partner's shares posted in ``month`` (days of the current time zone, UTC), by
    currency."""
    first, last = month_range(month)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    # The partner's few accounts once, not one copy per leg; the facts behind a share are read
    # on its own page, not here.
    accounts = {
        acct.pk: acct
        for acct in Account.objects.filter(
            holder=Holder.PARTNER,
            kind__in=(AccountKind.OWED, AccountKind.PAYABLE),
            partner=partner,
        ).select_related("practice")
    }
    # Plain rows: a model instance per leg, transaction, invoice and line cost most of the time
    # of 2,000 partners' statements.
    legs = (
        Leg.objects.filter(
            account__in=list(accounts), transaction__at__gte=start, transaction__at__lt=end
        )
        .order_by("transaction__at", "transaction_id", "pk")
        .values_list(
            "pk",
            "rule",
            "amount",
            "account_id",
            "transaction_id",
            "transaction__at",
            "transaction__memo",
            "transaction__kind",
            "transaction__invoice_id",
            "transaction__invoice__number",
            "transaction__invoice_line_id",
            "transaction__invoice_line__description",
        )
    )
    found = Statement(partner=partner, month=first)
    for pk, rule, amount, account_id, tx, at, memo, kind, inv, number, line, text in legs:
        acct = accounts[account_id]
        row = StatementRow(
            leg=LegRow(pk, rule, amount, acct),
            amount=-amount,
            transaction=TransactionRow(
                tx,
                at,
                memo,
                kind,
                InvoiceRef(inv, number) if inv else None,
                LineRef(line, text) if line else None,
            ),
        )
        found.rows.append(row)
        currency = acct.currency
        totals = found.owed if acct.kind == AccountKind.OWED else found.payable
        totals[currency] = totals.get(currency, Decimal(0)) + row.amount
        if acct.kind == AccountKind.OWED and rule:
            key = (currency, rule)
            found.by_rule[key] = found.by_rule.get(key, Decimal(0)) + row.amount
    return found
