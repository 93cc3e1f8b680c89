"""Invoices after the run: a draft's lines edited by hand, approval with its gapless number and
its posting to the ledger, sending, payment and credit notes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing import after_hours, capital, ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine import to_money
from thirdway.billing.invoicing import refresh_totals
from thirdway.billing.models import (
    AccountKind,
    Holder,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    NumberSeries,
    TimeEntry,
    TransactionKind,
)
from thirdway.billing.services import MANAGE, settings_of
from thirdway.billing.sharing import InvoiceContext, make_payable, split_invoice_line
from thirdway.billing.tool_costs import charge_tool_costs
from thirdway.errors import invalid, require


def _locked(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update().select_related("client", "practice").get(pk=invoice.pk)
    )


def _require_state(invoice: Invoice, *allowed: str) -> None:
    if invoice.state not in allowed:
        raise invalid(
            "state",
            f"The {invoice.get_kind_display().lower()} is {invoice.get_state_display().lower()}.",
            " or ".join(allowed),
        )


def _audit(actor, action: str, invoice: Invoice, source: str, changes: dict) -> None:
    record(
        actor, action, invoice, source=source, scope=f"client:{invoice.client_id}", changes=changes
    )


@transaction.atomic
def add_invoice_line(actor, invoice: Invoice, *, source: str, **data) -> InvoiceLine:
    """Add a line to a draft by hand (hardware, an expense); a negative price is refused:
    money goes back to a client by a credit note."""
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(invoice)
    _require_state(invoice, InvoiceState.DRAFT)
    for name in ("unit_price", "quantity"):
        if data.get(name) is not None and data[name] < 0:
            raise invalid(name, f"The {name.replace('_', ' ')} is negative.", "0 or more")
    line = InvoiceLine(invoice=invoice, **data)
    line.net = to_money(line.quantity * line.unit_price)
    line.full_clean()
    line.save()
    refresh_totals(invoice)
    _audit(actor, "invoice.line", invoice, source, {"line": [None, line.description]})
    return line


@transaction.atomic
def remove_invoice_line(actor, line: InvoiceLine, *, source: str) -> None:
    """Take a line off a draft; its time and its month's charge may be billed again."""
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(line.invoice)
    _require_state(invoice, InvoiceState.DRAFT)
    for taken in [line, *after_hours.paired_lines(line)]:
        # A line's after-hours pair goes with it: the next run bills their time again, split.
        TimeEntry.objects.filter(invoice_line=taken).update(invoice_line=None)
        TimeEntry.objects.filter(after_hours_line=taken).update(after_hours_line=None)
        if taken is not line:
            taken.delete()
    description = line.description
    line.delete()
    refresh_totals(invoice)
    _audit(actor, "invoice.line_removed", invoice, source, {"line": [description, None]})


def take_number(practice, kind: str) -> str:
    """The next number of the series, from its row locked until the transaction ends."""
    return take_numbers(practice, kind, 1)[0]


def take_numbers(practice, kind: str, count: int) -> list[str]:
    """The next ``count`` numbers of the series, in order, from its row locked until the
    transaction ends: one lock and one update however many."""
    settings = settings_of(practice)
    series = NumberSeries.objects.select_for_update().get(practice=practice, kind=kind)
    number = series.next_number
    NumberSeries.objects.filter(pk=series.pk).update(next_number=number + count)
    prefix = settings.invoice_prefix if kind == InvoiceKind.INVOICE else settings.credit_note_prefix
    return [f"{prefix}{n:06d}" for n in range(number, number + count)]


def _invoice_entries(invoice: Invoice, receivable, revenue, tax) -> list[ledger.Entry]:
    return [
        ledger.Entry(receivable, invoice.gross),
        ledger.Entry(revenue, -invoice.net),
        ledger.Entry(tax, -invoice.tax),
    ]


def _invoice_memo(invoice: Invoice) -> str:
    return f"{invoice.number} to {invoice.client}"


def _post_invoice(invoice: Invoice) -> None:
    """Receivable, revenue and VAT of the invoice, then each line's shares owed."""
    from thirdway.billing.services import rules_of

    practice = invoice.practice
    if not invoice.gross:
        return  # nothing owed: an invoice of zero lines (hours from a block) moves no money
    ledger.post(
        practice,
        TransactionKind.INVOICE,
        _invoice_memo(invoice),
        _invoice_entries(
            invoice,
            ledger.account(practice, AccountKind.RECEIVABLE, Holder.CLIENT, client=invoice.client),
            ledger.account(practice, AccountKind.REVENUE, Holder.PRACTICE),
            ledger.account(practice, AccountKind.TAX, Holder.PRACTICE),
        ),
        invoice=invoice,
    )
    rules = rules_of(settings_of(practice))
    context = InvoiceContext(invoice)
    lines = invoice.lines.select_related("contract_line__contract")
    ordered = list(lines.prefetch_related("time_entries", "after_hours_entries").order_by("pk"))
    charge_tool_costs(context, ordered)
    for line in ordered:
        split_invoice_line(context, line, rules)


@transaction.atomic
def approve_invoice(actor, invoice: Invoice, *, source: str) -> Invoice:
    """Number the draft (gapless, in this transaction) and post its shares as owed."""
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(invoice)
    _require_state(invoice, InvoiceState.DRAFT)
    if not invoice.lines.exists():
        raise invalid("lines", "The draft has no lines.", "a draft with at least one line")
    refresh_totals(invoice)
    invoice.number = take_number(invoice.practice, invoice.kind)
    invoice.state = InvoiceState.APPROVED
    invoice.approved_at = timezone.now()
    invoice.issued_on = timezone.localdate()
    invoice.save()
    _post_invoice(invoice)
    _audit(actor, "invoice.approve", invoice, source, {"number": [None, invoice.number]})
    return invoice


@transaction.atomic
def mark_sent(actor, invoice: Invoice, *, source: str) -> Invoice:
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(invoice)
    _require_state(invoice, InvoiceState.APPROVED)
    invoice.state, invoice.sent_at = InvoiceState.SENT, timezone.now()
    invoice.save(update_fields=["state", "sent_at"])
    _audit(actor, "invoice.send", invoice, source, {"state": ["approved", "sent"]})
    return invoice


@transaction.atomic
def mark_paid(actor, invoice: Invoice, *, source: str) -> Invoice:
    """The client paid in full: cash in, receivable out, and every share owed becomes payable."""
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(invoice)
    if invoice.kind != InvoiceKind.INVOICE:
        raise invalid("kind", "A credit note is not paid by the client.", "an invoice")
    _require_state(invoice, InvoiceState.APPROVED, InvoiceState.SENT)
    if invoice.gross:
        _post_payment(invoice)
    for split in invoice.transactions.filter(kind=TransactionKind.SPLIT).order_by("pk"):
        make_payable(split)
    capital.withhold_from_shares(invoice)
    before = invoice.state
    invoice.state, invoice.paid_at = InvoiceState.PAID, timezone.now()
    invoice.save(update_fields=["state", "paid_at"])
    _audit(actor, "invoice.paid", invoice, source, {"state": [before, "paid"]})
    return invoice


def _post_payment(invoice: Invoice) -> None:
    practice = invoice.practice
    ledger.post(
        practice,
        TransactionKind.PAYMENT,
        f"{invoice.number} paid by {invoice.client}",
        [
            ledger.Entry(
                ledger.account(practice, AccountKind.CASH, Holder.PRACTICE), invoice.gross
            ),
            ledger.Entry(
                ledger.account(
                    practice, AccountKind.RECEIVABLE, Holder.CLIENT, client=invoice.client
                ),
                -invoice.gross,
            ),
        ],
        invoice=invoice,
    )


@transaction.atomic
def credit_invoice(actor, invoice: Invoice, *, source: str) -> Invoice:
    """Cancel an approved invoice by a credit note of its own series: every transaction of the
    invoice is reversed, so each share (owed or payable) goes back to the cent."""
    require(may_manage_billing(actor), MANAGE)
    invoice = _locked(invoice)
    if invoice.kind != InvoiceKind.INVOICE:
        raise invalid("kind", "A credit note cannot be credited.", "an invoice")
    _require_state(invoice, InvoiceState.APPROVED, InvoiceState.SENT, InvoiceState.PAID)
    now = timezone.now()
    note = Invoice.objects.create(
        client=invoice.client,
        practice=invoice.practice,
        kind=InvoiceKind.CREDIT_NOTE,
        credits=invoice,
        state=InvoiceState.APPROVED,
        number=take_number(invoice.practice, InvoiceKind.CREDIT_NOTE),
        currency=invoice.currency,
        month=invoice.month,
        issued_on=timezone.localdate(),
        net=invoice.net,
        tax=invoice.tax,
        gross=invoice.gross,
        approved_at=now,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=note,
            contract_line=line.contract_line,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=line.net,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            quantity_source=line.quantity_source,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for line in invoice.lines.order_by("pk")
    )
    posted = invoice.transactions.filter(reverses__isnull=True, reversed_by__isnull=True)
    for original in posted.order_by("-pk"):
        ledger.reverse(original, f"{note.number} credits {original.memo}")
    before = invoice.state
    invoice.state = InvoiceState.CREDITED
    invoice.save(update_fields=["state"])
    _audit(
        actor,
        "invoice.credit",
        invoice,
        source,
        {"state": [before, "credited"], "credit_note": [None, note.number]},
    )
    return note
