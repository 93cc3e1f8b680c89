"""Posting to the ledger: the only code that writes accounts, transactions and legs.

Every transaction is checked here before anything is written: at least two legs, amounts in
whole cents, one currency, a zero sum.  A correction is :func:`reverse`, which posts the same
legs negated and links the two, so the record of what happened is never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from thirdway.billing.models import (
    Account,
    AccountKind,
    Holder,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    Leg,
    TransactionKind,
)


class Unbalanced(ValueError):
    """A transaction whose legs do not sum to zero, or that cannot be posted as given."""


@dataclass(frozen=True)
class Entry:
    """A leg to post: debit positive, credit negative."""

    account: Account
    amount: Decimal
    rule: str = ""


def account(practice, kind: str, holder: str, *, partner=None, client=None) -> Account:
    """The account of ``holder`` of ``kind`` in ``practice``, opened on first use (``partner``
    and ``client`` as objects or ids)."""
    found, _ = Account.objects.get_or_create(
        practice=practice,
        kind=kind,
        holder=holder,
        partner_id=getattr(partner, "pk", partner),
        client_id=getattr(client, "pk", client),
        defaults={"currency": practice.billing.currency},
    )
    return found


def check(entries: Sequence[Entry]) -> None:
    if len(entries) < 2:
        raise Unbalanced("A transaction needs at least two legs.")
    for entry in entries:
        if entry.amount != entry.amount.quantize(Decimal("0.01")):
            raise Unbalanced(f"{entry.amount} is not a whole number of cents.")
    if len({entry.account.currency for entry in entries}) != 1:
        raise Unbalanced("A transaction is in one currency.")
    total = sum((entry.amount for entry in entries), Decimal(0))
    if total != 0:
        raise Unbalanced(f"The legs sum to {total}, not zero.")


@transaction.atomic
def post(
    practice,
    kind: str,
    memo: str,
    entries: Sequence[Entry],
    *,
    invoice: Invoice | None = None,
    line: InvoiceLine | None = None,
    facts: dict | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction (legs of zero are left out)."""
    entries = [entry for entry in entries if entry.amount]
    check(entries)
    posted = LedgerTransaction.objects.create(
        practice=practice,
        kind=kind,
        at=timezone.now(),
        memo=memo[:250],
        invoice=invoice,
        invoice_line=line,
        facts=facts or {},
        reverses=reverses,
    )
    Leg.objects.bulk_create(
        Leg(transaction=posted, account=e.account, amount=e.amount, rule=e.rule) for e in entries
    )
    return posted


@transaction.atomic
def reverse(original: LedgerTransaction, memo: str) -> LedgerTransaction:
    """Cancel ``original`` by posting its legs negated (once: a second reversal is refused)."""
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise Unbalanced(f"Transaction {original.pk} is already reversed.")
    legs = list(original.legs.select_related("account"))
    return post(
        original.practice,
        TransactionKind.REVERSAL,
        memo,
        [Entry(leg.account, -leg.amount, leg.rule) for leg in legs],
        invoice=original.invoice,
        line=original.invoice_line,
        facts={"reverses": original.pk},
        reverses=original,
    )


def share_account(practice, recipient, kind: str = AccountKind.OWED, *, known=None) -> Account:
    """The owed or payable account of a split's recipient (engine ``Recipient``); ``known``
    keeps the accounts already looked up, so an invoice's lines ask for each once."""
    known = {} if known is None else known
    key = (practice.pk, kind, recipient)
    if key not in known:
        if recipient.kind == "partner":
            known[key] = account(practice, kind, Holder.PARTNER, partner=int(recipient.key))
        else:
            known[key] = account(practice, kind, recipient.kind)
    return known[key]


def total(legs) -> Decimal:
    """The sum of legs' amounts, added as Decimals here (SQLite would add them as floats)."""
    return sum(legs.values_list("amount", flat=True), Decimal("0.00"))


def balance(acct: Account) -> Decimal:
    return total(acct.legs.all())
