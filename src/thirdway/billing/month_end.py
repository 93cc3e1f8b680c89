"""The month-end approval: every draft of a practice's month approved a few hundred at a time,
as ``invoicing.approve_invoice`` approves one (numbers from one lock of the series, the ledger
posted in two inserts)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import gathering
from thirdway.billing import ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.drafts import by_id
from thirdway.billing.invoicing import (
    _audit,
    _invoice_entries,
    _invoice_memo,
    _totals,
    take_numbers,
)
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


def approve_drafts(actor, practice, month: dt.date, *, source: str) -> list[Invoice]:
    """Approve every draft invoice of the practice's month with lines (the month-end): as
    :func:`invoicing.approve_invoice` approves one, but a few hundred per transaction, each
    step done for all of them at once.  Numbers follow the drafts' order of creation, gapless;
    a draft without lines stays a draft.  The approved invoices, in order."""
    require(may_manage_billing(actor), MANAGE)
    first, _ = month_bounds(month)
    ids = list(
        Invoice.objects.filter(
            practice=practice, month=first, kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    approved: list[Invoice] = []
    known: dict = {}
    for start in range(0, len(ids), APPROVALS_PER_COMMIT):
        with transaction.atomic(), gathering():
            approved += _approve_chunk(
                actor, practice, ids[start : start + APPROVALS_PER_COMMIT], known, source
            )
    return approved


def _approve_chunk(actor, practice, ids: list[int], known: dict, source: str) -> list[Invoice]:
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("client", "practice")
    drafts = list(locked.filter(pk__in=ids, state=InvoiceState.DRAFT).order_by("pk"))
    lines_of = _lines_of([draft.pk for draft in drafts])
    drafts = [draft for draft in drafts if lines_of[draft.pk]]
    if not drafts:
        return []
    now, today = timezone.now(), timezone.localdate()
    numbers = take_numbers(practice, InvoiceKind.INVOICE, len(drafts))
    moved = []  # drafts whose totals changed since the run (a line added or taken off by hand)
    for draft, number in zip(drafts, numbers, strict=True):
        before = (draft.net, draft.tax, draft.gross)
        _totals(draft, lines_of[draft.pk])
        if (draft.net, draft.tax, draft.gross) != before:
            moved.append(draft)
        draft.number, draft.state = number, InvoiceState.APPROVED
        draft.approved_at, draft.issued_on = now, today
    _write_approval(drafts, now, today)
    if moved:
        Invoice.objects.bulk_update(moved, ["net", "tax", "gross"])
    ledger.post_all(practice, _postings(practice, drafts, lines_of, known))
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
    """Number and approve the locked drafts in one update."""
    Invoice.objects.filter(pk__in=[draft.pk for draft in drafts]).update(
        number=by_id("id", {draft.pk: draft.number for draft in drafts}),
        state=InvoiceState.APPROVED,
        approved_at=now,
        issued_on=today,
    )


def _postings(practice, drafts: list[Invoice], lines_of, known: dict) -> list[ledger.Pending]:
    """What approving the drafts posts, as :func:`invoicing._post_invoice` posts one invoice's."""
    from thirdway.billing.services import rules_of

    rules = rules_of(settings_of(practice))
    owing = [draft for draft in drafts if draft.gross]
    receivable = ledger.client_accounts(
        practice, AccountKind.RECEIVABLE, [draft.client_id for draft in owing]
    )
    revenue = ledger.account(practice, AccountKind.REVENUE, Holder.PRACTICE)
    tax = ledger.account(practice, AccountKind.TAX, Holder.PRACTICE)
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
