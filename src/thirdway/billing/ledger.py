"""Posting to the ledger: the only code that writes accounts, transactions and legs.

Every transaction is checked here before anything is written: at least two legs, amounts in
whole cents, one currency, a zero sum.  A correction is :func:`reverse`, which posts the same
legs negated and links the two, so the record of what happened is never edited.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.billing import row_arrays
from thirdway.billing.engine import Recipient
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


@dataclass
class Pending:
    """A transaction to post with others in one go (:func:`post_all`)."""

    kind: str
    memo: str
    entries: Sequence[Entry]
    invoice: Invoice | None = None
    line: InvoiceLine | None = None
    facts: dict = field(default_factory=dict)


@transaction.atomic
def post_all(practice, pending: Sequence[Pending]) -> list[int]:
    """Post many balanced transactions in a few inserts (the month-end approval): each is checked
    as :func:`post` checks one, all before anything is written, so one that does not balance
    posts none of them.  The ids of the transactions posted, in order."""
    kept = [[entry for entry in each.entries if entry.amount] for each in pending]
    for entries in kept:
        check(entries)
    ids: list[int] = []
    arrays = connection.vendor == "postgresql"
    step = TRANSACTIONS_PER_ARRAY if arrays else TRANSACTIONS_PER_INSERT
    for start in range(0, len(pending), step):
        ids += _insert_transactions(practice, pending[start : start + step])
    # The legs as plain rows (a million model instances would cost more than their insert), a
    # few thousand per INSERT on SQLite (its limit of parameters), tens of thousands on
    # PostgreSQL (one array per column), each transaction's legs in one: on PostgreSQL each
    # statement must leave the transactions it touched balanced (migration 0018).
    batch: list[tuple] = []
    most = LEGS_PER_ARRAY if arrays else LEGS_PER_INSERT
    for made, entries in zip(ids, kept, strict=True):
        if len(batch) + len(entries) > most and batch:
            _insert_legs(batch)
            batch = []
        batch += [(made, e.account.pk, e.amount, e.rule) for e in entries]
    if batch:
        _insert_legs(batch)
    return ids


# Rows per INSERT of post_all on SQLite, within its 32,766 parameters.
TRANSACTIONS_PER_INSERT = 1000  # 7 parameters each
LEGS_PER_INSERT = 2000  # 4 parameters each
# On PostgreSQL, one array per column: the month-end's 500 drafts' 2,000 transactions and
# 12,000 legs in one insert each (each statement runs the balance and reference checks once).
TRANSACTIONS_PER_ARRAY = 10_000
LEGS_PER_ARRAY = 50_000


def _insert_transactions(practice, pending: Sequence[Pending]) -> list[int]:
    """Insert ledger transactions as plain rows in one statement; their ids, in order (ids are
    given in the order of the rows, whatever the order RETURNING reads them back in)."""
    meta, ops = LedgerTransaction._meta, connection.ops
    names = ("practice_id", "kind", "at", "memo", "invoice_id", "invoice_line_id", "facts")
    columns = ", ".join(ops.quote_name(name) for name in names)
    at = meta.get_field("at").get_db_prep_value(timezone.now(), connection)
    facts = meta.get_field("facts")
    rows = [
        (
            practice.pk,
            each.kind,
            at,
            each.memo[:250],
            each.invoice.pk if each.invoice else None,
            each.line.pk if each.line else None,
        )
        for each in pending
    ]
    table = ops.quote_name(meta.db_table)
    returning = f"RETURNING {ops.quote_name('id')}"
    if connection.vendor == "postgresql":
        # One array per column: seven parameters, not seven per row for the driver to parse.
        insert = (
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            "SELECT %s, t.kind, %s, t.memo, t.invoice, t.line, t.facts::jsonb FROM unnest("
            "%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[]) WITH ORDINALITY "
            f"AS t(kind, memo, invoice, line, facts, n) ORDER BY t.n {returning}"
        )
        params = [practice.pk, at]
        params += [row_arrays.texts(row[n] for row in rows) for n in (1, 3)]
        params += [row_arrays.numbers(row[n] for row in rows) for n in (4, 5)]
        # as the JSONField dumps
        params.append(row_arrays.texts(json.dumps(each.facts) for each in pending))

    else:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        insert = f"INSERT INTO {table} ({columns}) VALUES {values} {returning}"  # noqa: S608
        plain = [facts.get_db_prep_save(each.facts, connection) for each in pending]
        params = [value for row, made in zip(rows, plain, strict=True) for value in (*row, made)]
    with connection.cursor() as cursor:
        cursor.execute(insert, params)
        return sorted(row[0] for row in cursor.fetchall())


def _insert_legs(rows: list[tuple]) -> None:
    """Insert legs (transaction, account, amount, rule) in one statement; the table's and
    columns' names from the model, every value a parameter."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("transaction_id", "account_id", "amount", "rule"))
    table = quote(Leg._meta.db_table)
    if connection.vendor == "postgresql":
        # One array per column: four parameters, not four per row for the driver to parse.
        arrays = "unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::text[])"
        insert = f"INSERT INTO {table} ({columns}) SELECT * FROM {arrays}"  # noqa: S608
        params = [row_arrays.numbers(row[n] for row in rows) for n in range(3)]
        params.append(row_arrays.texts(row[3] for row in rows))
    else:
        values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
        insert = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
        params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(insert, params)


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
    key = _share_key(practice, kind, recipient)
    if key not in known:
        if recipient.kind == "partner":
            known[key] = account(practice, kind, Holder.PARTNER, partner=int(recipient.key))
        else:
            known[key] = account(practice, kind, recipient.kind)
    return known[key]


def _share_key(practice, kind: str, recipient) -> tuple:
    return (practice.pk, kind, recipient)


def open_share_accounts(practice, recipients: Iterable, known: dict, kind=AccountKind.OWED) -> None:
    """Open (or find) the accounts of many recipients at once into ``known``, as
    :func:`share_account` keeps them: one read, one insert of the missing, one read back."""
    missing = {r for r in recipients if _share_key(practice, kind, r) not in known}
    if not missing:
        return
    holders = {Holder.PARTNER if r.kind == "partner" else r.kind for r in missing}
    partners = {int(r.key) for r in missing if r.kind == "partner"}

    def read() -> None:
        found = Account.objects.filter(
            practice=practice, kind=kind, holder__in=holders, client__isnull=True
        ).filter(Q(partner__isnull=True) | Q(partner_id__in=partners))
        for acct in found:
            recipient = Recipient("partner", str(acct.partner_id)) if acct.partner_id else None
            recipient = recipient or Recipient(acct.holder)
            known.setdefault(_share_key(practice, kind, recipient), acct)

    read()
    opened = [r for r in missing if _share_key(practice, kind, r) not in known]
    if opened:
        Account.objects.bulk_create(
            [
                Account(
                    practice=practice,
                    kind=kind,
                    holder=Holder.PARTNER if r.kind == "partner" else r.kind,
                    partner_id=int(r.key) if r.kind == "partner" else None,
                    currency=practice.billing.currency,
                )
                for r in opened
            ],
            ignore_conflicts=True,
        )
        read()


def client_accounts(practice, kind: str, client_ids: Iterable[int]) -> dict[int, Account]:
    """The accounts of ``kind`` of many clients, by client id, opened where missing (one read,
    one insert, one read back)."""
    wanted = set(client_ids)

    def read() -> dict[int, Account]:
        found = Account.objects.filter(
            practice=practice,
            kind=kind,
            holder=Holder.CLIENT,
            partner__isnull=True,
            client_id__in=wanted,
        )
        return {acct.client_id: acct for acct in found}

    found = read()
    if len(found) < len(wanted):
        Account.objects.bulk_create(
            [
                Account(
                    practice=practice,
                    kind=kind,
                    holder=Holder.CLIENT,
                    client_id=client_id,
                    currency=practice.billing.currency,
                )
                for client_id in wanted - set(found)
            ],
            ignore_conflicts=True,
        )
        found = read()
    return found


def total(legs) -> Decimal:
    """The sum of legs' amounts, added as Decimals here (SQLite would add them as floats)."""
    return sum(legs.values_list("amount", flat=True), Decimal("0.00"))


def balance(acct: Account) -> Decimal:
    return total(acct.legs.all())
