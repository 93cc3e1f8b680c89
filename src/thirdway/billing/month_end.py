"""The month-end approval: every draft of a practice's month approved a few hundred at a time,
as ``issuing.approve_invoice`` approves one (numbers from one lock of the series, the ledger
posted in two inserts)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from thirdway.audit.services import gathering
from thirdway.billing import ledger, row_arrays
from thirdway.billing.access import may_manage_billing
from thirdway.billing.connections_apart import InTurn, in_processes, may_work_apart
from thirdway.billing.drafts import by_id
from thirdway.billing.invoicing import _totals
from thirdway.billing.issuing import _audit, _invoice_entries, _invoice_memo, take_numbers
from thirdway.billing.models import (
    AccountKind,
    Holder,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    ToolCost,
    TransactionKind,
)
from thirdway.billing.proposals import month_bounds
from thirdway.billing.services import MANAGE, settings_of
from thirdway.billing.sharing import contexts_of, shares_of, split_entries, split_memo
from thirdway.billing.tool_costs import charge_tool_costs
from thirdway.errors import require

# Drafts approved per transaction by the month-end approval.
APPROVALS_PER_COMMIT = 500


def approve_drafts(
    actor, practice, month: dt.date, *, source: str, workers: int = 1
) -> list[Invoice]:
    """Approve every draft invoice of the practice's month with lines (the month-end): as
    :func:`issuing.approve_invoice` approves one, but a few hundred per transaction, each
    step done for all of them at once.  Numbers follow the drafts' order of creation, gapless;
    a draft without lines stays a draft.  The approved invoices, in order.

    With ``workers`` above 1 on PostgreSQL (and no tool costs to charge), that many
    processes share the parts, each on its own connection: each reads its drafts and works
    out their shares while the one before writes, then takes its numbers after it
    (``connections_apart.InTurn``)."""
    require(may_manage_billing(actor), MANAGE)
    first, _ = month_bounds(month)
    ids = list(
        Invoice.objects.filter(
            practice=practice, month=first, kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    parts = [ids[at : at + APPROVALS_PER_COMMIT] for at in range(0, len(ids), APPROVALS_PER_COMMIT)]
    known: dict = {}
    if may_work_apart(workers) and not ToolCost.objects.filter(practice=practice).exists():
        return _approve_apart(actor, practice, parts, known, source, workers)
    approved: list[Invoice] = []
    for part in parts:
        with transaction.atomic(), gathering():
            approved += _approve_chunk(actor, practice, part, known, source)
    return approved


def _approve_apart(actor, practice, parts, known: dict, source: str, workers: int):
    """The parts approved by ``workers`` processes, numbered and committed in their order."""
    turns = InTurn(len(parts))

    def one(index: int, part: list[int]) -> list[Invoice]:
        committed = False
        try:
            with transaction.atomic():
                with gathering():
                    made = _approve_chunk(actor, practice, part, known, source, (turns, index))
                turns.wait_to_commit(index)
            committed = True
        finally:
            turns.finished(index, committed)
        for invoice in made:  # sent back without their client and practice: 50,000 of each
            invoice._state.fields_cache.clear()
        return made

    def lost(index: int) -> None:  # its process died: the parts after it stop
        turns.finished(index, False)

    return [invoice for made in in_processes(one, parts, workers, lost) for invoice in made]


def _approve_chunk(
    actor, practice, ids: list[int], known: dict, source: str, turn=None
) -> list[Invoice]:
    """Approve the drafts of ``ids``; ``turn`` (an ``InTurn`` and this part's index) when
    parts are approved on several connections: the shares are then worked out before the
    numbers are taken (no tool costs, whose memo names the number, are charged then)."""
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("client", "practice")
    drafts = list(locked.filter(pk__in=ids, state=InvoiceState.DRAFT).order_by("pk"))
    lines_of = _lines_of([draft.pk for draft in drafts])
    drafts = [draft for draft in drafts if lines_of[draft.pk]]
    if not drafts:
        return []
    now, today = timezone.now(), timezone.localdate()
    moved = []  # drafts whose totals changed since the run (a line added or taken off by hand)
    for draft in drafts:
        before = (draft.net, draft.tax, draft.gross)
        _totals(draft, lines_of[draft.pk])
        if (draft.net, draft.tax, draft.gross) != before:
            moved.append(draft)
    splits = None
    if turn is not None:
        splits = _splits(practice, drafts, lines_of, known)
        turn[0].wait_to_number(turn[1])
    numbers = take_numbers(practice, InvoiceKind.INVOICE, len(drafts))
    if turn is not None:
        turn[0].numbered(turn[1])
    for draft, number in zip(drafts, numbers, strict=True):
        draft.number, draft.state = number, InvoiceState.APPROVED
        draft.approved_at, draft.issued_on = now, today
    _write_approval(drafts, now, today)
    if moved:
        Invoice.objects.bulk_update(moved, ["net", "tax", "gross"])
    ledger.post_all(practice, _postings(practice, drafts, lines_of, known, splits))
    for draft in drafts:
        _audit(actor, "invoice.approve", draft, source, {"number": [None, draft.number]})
    return drafts


@dataclass(frozen=True, slots=True)
class _Contract:
    """What a split reads of a line's contract."""

    originator_id: int | None
    originated_on: dt.date | None
    referrer_id: int | None


@dataclass(frozen=True, slots=True)
class _ContractLine:
    contract: _Contract


@dataclass(frozen=True, slots=True)
class LineRow:
    """What approving reads of an invoice line (its totals, its split and its memo), read as a
    plain row: as many as 150,000 at the month-end."""

    pk: int
    invoice_id: int
    net: Decimal
    vat_category: str
    vat_rate: Decimal
    description: str
    contract_line_id: int | None
    contract_line: _ContractLine | None


def _lines_of(drafts: list[int]) -> defaultdict[int, list[LineRow]]:
    """The lines of the drafts, by draft id, in order."""
    found: defaultdict[int, list[LineRow]] = defaultdict(list)
    rows = (
        InvoiceLine.objects.filter(invoice__in=drafts)
        .order_by("invoice", "pk")
        .values_list(
            "pk",
            "invoice_id",
            "net",
            "vat_category",
            "vat_rate",
            "description",
            "contract_line_id",
            "contract_line__contract__originator_id",
            "contract_line__contract__originated_on",
            "contract_line__contract__referrer_id",
        )
    )
    for *line, originator, since, referrer in rows:
        contract = _ContractLine(_Contract(originator, since, referrer)) if line[6] else None
        found[line[1]].append(LineRow(*line, contract))
    return found


def _write_approval(drafts: list[Invoice], now, today: dt.date) -> None:
    """Number and approve the locked drafts in one update (on PostgreSQL the numbers joined by
    id from two arrays: a ``CASE`` of 500 branches is compared branch by branch, row by row)."""
    if connection.vendor != "postgresql":
        Invoice.objects.filter(pk__in=[draft.pk for draft in drafts]).update(
            number=by_id("id", {draft.pk: draft.number for draft in drafts}),
            state=InvoiceState.APPROVED,
            approved_at=now,
            issued_on=today,
        )
        return
    fields = {name: Invoice._meta.get_field(name) for name in ("approved_at", "issued_on")}
    table = connection.ops.quote_name(Invoice._meta.db_table)
    update = (
        f"UPDATE {table} SET number = v.number, state = %s, approved_at = %s, "  # noqa: S608
        "issued_on = %s FROM unnest(%s::bigint[], %s::text[]) AS v(id, number) "
        f"WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            update,
            [
                InvoiceState.APPROVED.value,
                fields["approved_at"].get_db_prep_value(now, connection),
                fields["issued_on"].get_db_prep_value(today, connection),
                row_arrays.numbers(draft.pk for draft in drafts),
                row_arrays.texts(draft.number for draft in drafts),
            ],
        )


def _splits(practice, drafts: list[Invoice], lines_of, known: dict):
    """The drafts that owe money, their contexts, and each of their lines' shares (after the
    month's tool costs, charged here when the practice has any)."""
    from thirdway.billing.services import rules_of

    rules = rules_of(settings_of(practice))
    owing = [draft for draft in drafts if draft.gross]
    contexts = contexts_of(owing, known, [line.pk for d in owing for line in lines_of[d.pk]])
    if ToolCost.objects.filter(practice=practice).exists():  # else there is nothing to charge
        for draft in owing:  # each client's tool costs, as approving it alone charges them
            charge_tool_costs(contexts[draft.pk], list(lines_of[draft.pk]))
    splits = []
    for draft in owing:
        for line in lines_of[draft.pk]:
            found = shares_of(contexts[draft.pk], line, rules)
            if found is not None:
                splits.append((draft, line, *found))
    return owing, contexts, splits


def _postings(
    practice, drafts: list[Invoice], lines_of, known: dict, splits=None
) -> list[ledger.Pending]:
    """What approving the drafts posts, as :func:`issuing._post_invoice` posts one invoice's
    (``splits`` from :func:`_splits` when worked out already)."""
    receivable = ledger.client_accounts(
        practice, AccountKind.RECEIVABLE, [draft.client_id for draft in drafts if draft.gross]
    )
    revenue = ledger.account(practice, AccountKind.REVENUE, Holder.PRACTICE)
    tax = ledger.account(practice, AccountKind.TAX, Holder.PRACTICE)
    owing, contexts, splits = splits or _splits(practice, drafts, lines_of, known)
    ledger.open_share_accounts(
        practice, {share.recipient for *_, shares, _ in splits for share in shares}, known
    )
    pending = []
    for draft in owing:
        entries = _invoice_entries(draft, receivable[draft.client_id], revenue, tax)
        pending.append(
            ledger.Pending(TransactionKind.INVOICE, _invoice_memo(draft), entries, invoice=draft)
        )
    for draft, line, shares, plain in splits:
        entries = split_entries(contexts[draft.pk], line, shares)
        memo = split_memo(draft, line)
        pending.append(
            ledger.Pending(TransactionKind.SPLIT, memo, entries, draft, line, facts=plain)
        )
    return pending
