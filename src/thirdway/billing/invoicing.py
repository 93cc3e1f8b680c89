"""Invoices: the monthly run that makes the drafts (approval and after: ``issuing.py``).

The run claims what it bills: a monthly line's charge for a month by the unique ``claim`` of the
invoice line, time by a conditional update of the entries still unbilled.  Two runs at once
therefore never bill one thing twice, and a re-run finds nothing left to bill.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction

from thirdway.audit.services import record
from thirdway.billing import drafts, items
from thirdway.billing.access import may_manage_billing
from thirdway.billing.connections_apart import in_processes, may_work_apart
from thirdway.billing.engine import to_money
from thirdway.billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceState,
    TimeEntry,
)
from thirdway.billing.projects import lock_billed_milestones
from thirdway.billing.proposals import (
    Proposed,
    client_parts,
    hours_of,
    month_bounds,
    proposals,  # noqa: F401  (the preview, read from here)
    proposals_in_parts,
    proposals_of,
    read_at_start,
)
from thirdway.billing.services import MANAGE, settings_of
from thirdway.errors import require

# --- the run -----------------------------------------------------------------------------------


class _NothingClaimed(Exception):
    """Another run billed it first: roll the line back."""


def _vat_of(proposed: Proposed) -> tuple[str, Decimal]:
    if proposed.vat is not None:
        return proposed.vat
    if proposed.contract_line is None:
        return "S", Decimal(20)
    return proposed.contract_line.vat_category, proposed.contract_line.vat_rate


def _claim_entries(line: InvoiceLine, proposed: Proposed) -> int:
    """Claim the proposed line's time entries still free (by ``invoice_line``, and by
    ``after_hours_line`` for an after-hours line); how many were taken."""
    free = {f"{name}__isnull": True for name in proposed.claims}
    taken = TimeEntry.objects.filter(pk__in=proposed.entries, **free)
    return taken.update(**dict.fromkeys(proposed.claims, line))


def _claim_time(line: InvoiceLine, proposed: Proposed) -> None:
    taken = _claim_entries(line, proposed)
    if not taken:
        raise _NothingClaimed
    if taken < len(proposed.entries) and proposed.unit_price:
        # Another run took some of them: bill only the time this line holds.
        held = TimeEntry.objects.filter(**{proposed.claims[-1]: line})
        if proposed.minutes is None:
            minutes = sum(held.values_list("billable_minutes", flat=True))
        else:
            minutes = sum(proposed.minutes.get(pk, 0) for pk in held.values_list("pk", flat=True))
        line.quantity = hours_of(minutes)
        line.net = to_money(line.quantity * line.unit_price)
        line.save(update_fields=["quantity", "net"])


def _add_line(invoice: Invoice, proposed: Proposed) -> bool:
    """Add one proposed line if its claim is still free; False when another run billed it."""
    try:
        with transaction.atomic():
            line = _line_of(invoice, proposed)
            line.save(force_insert=True)
            if proposed.entries:
                _claim_time(line, proposed)
    except (IntegrityError, _NothingClaimed):
        return False
    return True


def vat_breakdown(lines) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(category, rate, taxable base, tax) per VAT category and rate of an invoice: the tax is
    computed once per category on its base, rounded half up (EN 16931 BR-CO-14)."""
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        bases[(line.vat_category, line.vat_rate)] += line.net
    return [
        (category, rate, base, to_money(base * rate / 100))
        for (category, rate), base in sorted(bases.items())
    ]


def refresh_totals(invoice: Invoice) -> Invoice:
    breakdown = vat_breakdown(invoice.lines.all())
    invoice.net = sum((base for _, _, base, _ in breakdown), Decimal("0.00"))
    invoice.tax = sum((tax for _, _, _, tax in breakdown), Decimal("0.00"))
    invoice.gross = invoice.net + invoice.tax
    invoice.save(update_fields=["net", "tax", "gross"])
    return invoice


def _line_of(invoice: Invoice, proposed: Proposed) -> InvoiceLine:
    category, rate = _vat_of(proposed)
    return InvoiceLine(
        invoice=invoice,
        contract_line=proposed.contract_line,
        description=proposed.description[:250],
        quantity=proposed.quantity,
        unit_price=proposed.unit_price,
        net=proposed.net,
        vat_category=category,
        vat_rate=rate,
        quantity_source=proposed.source[:500],
        counted=proposed.counted,
        claim=proposed.claim,
        period_start=proposed.period[0] if proposed.period else None,
        period_end=proposed.period[1] if proposed.period else None,
        after_hours_minutes=proposed.after_hours_minutes,
    )


def _add_all(invoice: Invoice, proposed: list[Proposed]) -> bool:
    """All the client's lines in one insert, then one conditional update per time line: the
    usual case.  False (and nothing written) when another run claimed any of it first; the
    lines are then added one by one."""
    try:
        with transaction.atomic():
            lines = InvoiceLine.objects.bulk_create([_line_of(invoice, p) for p in proposed])
            for line, wanted in zip(lines, proposed, strict=True):
                if not wanted.entries:
                    continue
                taken = _claim_entries(line, wanted)
                if taken != len(wanted.entries):
                    raise _NothingClaimed
    except (IntegrityError, _NothingClaimed):
        return False
    return True


def _totals(invoice: Invoice, lines) -> None:
    breakdown = vat_breakdown(lines)
    invoice.net = sum((base for _, _, base, _ in breakdown), Decimal("0.00"))
    invoice.tax = sum((tax for _, _, _, tax in breakdown), Decimal("0.00"))
    invoice.gross = invoice.net + invoice.tax


def _bill_client(run: InvoiceRun, currency: str, client, proposed: list[Proposed]) -> int:
    """Add the client's lines to its draft of the month (made if needed); the lines added."""
    with transaction.atomic():
        drafts = Invoice.objects.select_for_update().filter(
            client=client,
            practice=run.practice,
            month=run.month,
            kind=InvoiceKind.INVOICE,
            state=InvoiceState.DRAFT,
        )
        invoice = drafts.order_by("pk").first()
        made = invoice is None
        if invoice is None:
            # Made with the totals of its lines, as they will be unless another run got there
            # first (then they are counted again from what was added).
            invoice = Invoice(
                client=client, practice=run.practice, month=run.month, currency=currency, run=run
            )
            _totals(invoice, [_line_of(invoice, line) for line in proposed])
            invoice.save(force_insert=True)
        if _add_all(invoice, proposed):
            added = len(proposed)
            if not made:
                refresh_totals(invoice)
        else:
            added = sum(_add_line(invoice, line) for line in proposed)
            if made and not added:
                invoice.delete()
                return 0
            refresh_totals(invoice)
        if any(line.claim and line.claim.startswith("item:") for line in proposed):
            items.link_claimed(invoice)
        run.invoices_made += made
        return added


# Clients billed per transaction: one commit for many.
CLIENTS_PER_COMMIT = 500


def _drafts_of(run: InvoiceRun, clients: list[int]) -> set[int]:
    """The clients among ``clients`` with a draft of the run's month already (locked)."""
    drafts = Invoice.objects.select_for_update(of=("self",)).filter(
        client__in=clients,
        practice=run.practice,
        month=run.month,
        kind=InvoiceKind.INVOICE,
        state=InvoiceState.DRAFT,
    )
    return set(drafts.values_list("client_id", flat=True))


def _claim_all_time(made: list[tuple[int, Proposed]]) -> None:
    """Claim the time of many new lines (by id) in one conditional update per claiming field
    (an after-hours line claims by ``after_hours_line``); _NothingClaimed unless every entry
    was still unbilled."""
    by_field: dict[str, dict[int, int]] = defaultdict(dict)
    for line_id, wanted in made:
        for name in wanted.claims if wanted.entries else ():
            for pk in wanted.entries:
                if pk in by_field[name]:
                    raise _NothingClaimed  # two lines claim one entry: bill them one by one
                by_field[name][pk] = line_id
    for name, whose in by_field.items():
        if drafts.claim_time(name, whose) != len(whose):
            raise _NothingClaimed


def _bill_new(run: InvoiceRun, currency: str, found: list[tuple[object, list[Proposed]]]) -> bool:
    """Clients without a draft of the month, all at once: their drafts in one insert, all their
    lines in another (plain rows, ``drafts``), their time claimed in one update.  False (and
    nothing written) when another run claimed any of it first; they are then billed one by
    one."""
    rows_of = [
        [drafts.line_row(line, *_vat_of(line)) for line in proposed] for _, proposed in found
    ]
    try:
        with transaction.atomic():
            ids = drafts.insert_drafts(
                run,
                currency,
                [
                    (client.pk, drafts.totals_of(rows))
                    for (client, _), rows in zip(found, rows_of, strict=True)
                ],
            )
            lines = [
                (invoice_id, *row)
                for invoice_id, rows in zip(ids, rows_of, strict=True)
                for row in rows
            ]
            line_ids = drafts.insert_lines(lines)
            wanted = [line for _, proposed in found for line in proposed]
            _claim_all_time(list(zip(line_ids, wanted, strict=True)))
    except (IntegrityError, _NothingClaimed):
        return False
    with_items = [
        invoice_id
        for invoice_id, (_, proposed) in zip(ids, found, strict=True)
        if any(line.claim and line.claim.startswith("item:") for line in proposed)
    ]
    for invoice in Invoice.objects.filter(pk__in=with_items).order_by("pk"):
        items.link_claimed(invoice)
    run.invoices_made += len(ids)
    run.lines_made += len(lines)
    return True


def _milestones_still_done(found: list[tuple[object, list[Proposed]]]) -> list:
    """The chunk without the milestones un-marked since it was read (their rows now locked
    until the chunk commits, so an un-mark waits for it)."""
    claims = [p.claim for _, lines in found for p in lines if _is_milestone(p)]
    if not claims:
        return found
    done = lock_billed_milestones(claims)
    kept = [
        (c, [p for p in lines if not _is_milestone(p) or p.claim in done]) for c, lines in found
    ]
    return [(client, lines) for client, lines in kept if lines]


def _is_milestone(proposed: Proposed) -> bool:
    return bool(proposed.claim and proposed.claim.startswith("milestone:"))


def _bill_chunk(run: InvoiceRun, currency: str, found: list[tuple[object, list[Proposed]]]) -> None:
    with transaction.atomic():
        found = _milestones_still_done(found)
        drafted = _drafts_of(run, [client.pk for client, _ in found])
        new = [(client, lines) for client, lines in found if client.pk not in drafted]
        if new and _bill_new(run, currency, new):
            found = [(client, lines) for client, lines in found if client.pk in drafted]
        for client, lines in found:
            run.lines_made += _bill_client(run, currency, client, lines)


def run_invoices(actor, practice, month: dt.date, *, source: str, workers: int = 1) -> InvoiceRun:
    """Make the month's drafts from contracts and time; what is billed already is skipped.
    With ``workers`` above 1 on PostgreSQL, that many processes bill the parts at once, each
    on its own connection (the claims keep any two from billing one thing twice)."""
    require(may_manage_billing(actor), MANAGE)
    settings = settings_of(practice)
    first, _ = month_bounds(month)
    run = InvoiceRun.objects.create(practice=practice, month=first, started_by=actor)
    if may_work_apart(workers):
        _run_apart(run, settings.currency, workers)
    else:
        # Read and billed 500 clients at a time: the month's preview is never held whole.
        for found in proposals_in_parts(practice, first, CLIENTS_PER_COMMIT):
            if found:
                _bill_chunk(run, settings.currency, list(found.values()))
    run.save(update_fields=["invoices_made", "lines_made"])
    record(
        actor,
        "invoice.run",
        run,
        source=source,
        scope=f"practice:{practice.pk}",
        changes={"invoices": [None, run.invoices_made], "lines": [None, run.lines_made]},
    )
    return run


def _run_apart(run: InvoiceRun, currency: str, workers: int) -> None:
    """The run's parts billed by ``workers`` processes at once, each counting on a copy of
    the run; the counts added up on ``run``."""

    known = read_at_start(run.month)  # read once, before the processes fork

    def bill(_index: int, clients: list[int]) -> tuple[int, int]:
        mine = copy.copy(run)
        mine.invoices_made = mine.lines_made = 0
        found = proposals_of(run.practice, run.month, clients, known)
        if found:
            _bill_chunk(mine, currency, list(found.values()))
        return mine.invoices_made, mine.lines_made

    parts = client_parts(run.practice, run.month, CLIENTS_PER_COMMIT)
    for invoices, lines in in_processes(bill, parts, workers):
        run.invoices_made += invoices
        run.lines_made += lines
