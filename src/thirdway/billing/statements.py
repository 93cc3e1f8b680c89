"""A partner's monthly statement: every share posted to them in the month, each traced to its
invoice line, its rule and the facts behind it, with the totals owed and payable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from thirdway.billing.models import Account, AccountKind, Holder, Leg


@dataclass(frozen=True)
class StatementRow:
    leg: Leg
    amount: Decimal  # what the partner gains (shares are credits, so the leg negated)

    @property
    def transaction(self):
        return self.leg.transaction

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
    legs = (
        Leg.objects.filter(
            account__in=list(accounts), transaction__at__gte=start, transaction__at__lt=end
        )
        .select_related("transaction__invoice", "transaction__invoice_line")
        .defer("transaction__facts")
        .order_by("transaction__at", "transaction_id", "pk")
    )
    found = Statement(partner=partner, month=first)
    for leg in legs:
        leg.account = accounts[leg.account_id]
        row = StatementRow(leg=leg, amount=-leg.amount)
        found.rows.append(row)
        currency = leg.account.currency
        totals = found.owed if leg.account.kind == AccountKind.OWED else found.payable
        totals[currency] = totals.get(currency, Decimal(0)) + row.amount
        if leg.account.kind == AccountKind.OWED and leg.rule:
            key = (currency, leg.rule)
            found.by_rule[key] = found.by_rule.get(key, Decimal(0)) + row.amount
    return found
