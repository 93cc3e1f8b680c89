"""The invoice run, numbering, VAT and the shares each line leaves in the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing, ledger, services
from thirdway.billing.models import (
    Account,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    Leg,
    TimeEntry,
)

from .weeks import approve_weeks

D = Decimal
MONTH = dt.date(2026, 11, 1)


def run(cast, month=MONTH):
    approve_weeks(cast)
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


def acme_draft(cast) -> Invoice:
    return Invoice.objects.get(client=cast.acme, state="draft")


def lines_of(invoice):
    return {
        line.description: (line.quantity, line.unit_price, line.net) for line in invoice.lines.all()
    }


def test_a_run_bills_each_contract_line_with_where_its_quantity_came_from(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    book_time(cast.partner, books.partner_rate, 30, billing_status="do_not_bill")
    book_time(cast.partner, books.partner_rate, 15, billing_status="no_charge")
    made = run(cast)
    assert (made.invoices_made, made.lines_made) == (2, 7)
    invoice = acme_draft(cast)
    assert invoice.number is None
    assert lines_of(invoice) == {
        "Monitoring (2026-11)": (D(1), D("100.00"), D("100.00")),
        "Device care (2026-11)": (D(2), D("12.50"), D("25.00")),
        "User support (2026-11)": (D(2), D("9.99"), D("19.98")),
        "Partner time": (D("1.50"), D("120.00"), D("180.00")),
        "Partner time (no charge)": (D("0.25"), D(0), D("0.00")),
        "Associate time": (D("0.75"), D("80.00"), D("60.00")),
    }
    devices = invoice.lines.get(description__startswith="Device care")
    assert devices.quantity_source == "2 devices among the client's assets on 2026-11-01"
    assert devices.counted == sorted([cast.acme_laptop.pk, cast.acme_server.pk])
    users = invoice.lines.get(description__startswith="User support")
    assert users.counted == sorted([cast.acme_admin_contact.pk, cast.acme_user_contact.pk])
    # 365.00 at 20 % and 19.98 zero-rated
    assert (invoice.net, invoice.tax, invoice.gross) == (D("384.98"), D("73.00"), D("457.98"))
    unbilled = TimeEntry.objects.filter(invoice_line__isnull=True)
    assert list(unbilled.values_list("billing_status", flat=True)) == ["do_not_bill"]


def test_a_rerun_bills_nothing_new_and_later_time_joins_the_draft(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 60)
    run(cast)
    again = run(cast)
    assert (again.invoices_made, again.lines_made) == (0, 0)
    assert InvoiceLine.objects.count() == 5
    book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 11, 20))
    later = run(cast)
    assert (later.invoices_made, later.lines_made) == (0, 1)
    assert Invoice.objects.filter(client=cast.acme).count() == 1
    assert acme_draft(cast).lines.filter(description="Partner time").count() == 2


def test_the_preview_writes_nothing_and_matches_the_run(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 60)
    approve_weeks(cast)
    preview = invoicing.proposals(cast.security, MONTH)
    assert not Invoice.objects.exists()
    expected = {client.pk: len(lines) for client, lines in preview.values()}
    run(cast)
    assert expected == {inv.client_id: inv.lines.count() for inv in Invoice.objects.all()}
    assert invoicing.proposals(cast.security, MONTH) == {}


def test_lines_outside_their_effective_dates_are_not_billed(cast, books):
    services.update_contract_line(
        cast.admin, books.flat, {"ends_on": dt.date(2026, 10, 31)}, source=Source.CLI
    )
    services.add_contract_line(
        cast.admin,
        books.managed,
        description="Monitoring plus",
        unit="flat",
        price=D("150.00"),
        starts_on=dt.date(2026, 11, 1),
        source=Source.CLI,
    )
    run(cast)
    assert "Monitoring plus (2026-11)" in lines_of(acme_draft(cast))
    assert "Monitoring (2026-11)" not in lines_of(acme_draft(cast))


def test_numbers_are_taken_at_approval_without_gaps_and_credit_notes_have_their_own(cast, books):
    run(cast)
    acme, globex = acme_draft(cast), Invoice.objects.get(client=cast.globex)
    first = issuing.approve_invoice(cast.admin, globex, source=Source.CLI)
    second = issuing.approve_invoice(cast.admin, acme, source=Source.CLI)
    assert (first.number, second.number) == ("INV-000001", "INV-000002")
    note = issuing.credit_invoice(cast.admin, first, source=Source.CLI)
    assert note.number == "CN-000001"
    assert note.kind == "credit_note" and note.credits == first
    first.refresh_from_db()
    assert first.state == "credited"
    run(cast, dt.date(2026, 12, 1))
    third = issuing.approve_invoice(
        cast.admin, Invoice.objects.get(client=cast.acme, state="draft"), source=Source.CLI
    )
    assert third.number == "INV-000003"


@pytest.mark.parametrize("act", ["approve_invoice", "add_invoice_line"])
def test_an_approved_invoice_is_not_changed(cast, books, act):
    run(cast)
    invoice = issuing.approve_invoice(cast.admin, acme_draft(cast), source=Source.CLI)
    extra = (
        {
            "description": "Cable",
            "quantity": D(1),
            "unit_price": D(5),
            "vat_category": "S",
            "vat_rate": D(20),
        }
        if act == "add_invoice_line"
        else {}
    )
    with pytest.raises(ValidationError) as refused:
        getattr(issuing, act)(cast.admin, invoice, source=Source.CLI, **extra)
    assert "state" in refused.value.error_dict
    invoice.refresh_from_db()
    assert invoice.number == "INV-000001" and invoice.lines.count() == 3


def test_a_negative_line_price_is_refused(cast, books):
    run(cast)
    draft = acme_draft(cast)
    with pytest.raises(ValidationError) as refused:
        issuing.add_invoice_line(
            cast.admin,
            draft,
            description="Refund",
            quantity=D(1),
            unit_price=D("-5.00"),
            vat_category="S",
            vat_rate=D(20),
            source=Source.CLI,
        )
    assert "unit_price" in refused.value.error_dict
    assert draft.lines.count() == 3


def test_vat_is_computed_per_category_and_rounded_half_up(cast, books):
    run(cast)
    draft = acme_draft(cast)
    for line in list(draft.lines.all()):
        issuing.remove_invoice_line(cast.admin, line, source=Source.CLI)
    for _ in range(2):
        issuing.add_invoice_line(
            cast.admin,
            draft,
            description="Screw",
            quantity=D(1),
            unit_price=D("0.05"),
            vat_category="S",
            vat_rate=D(5),
            source=Source.CLI,
        )
    draft.refresh_from_db()
    # 0.10 at 5 % is 0.005: half up is 0.01 (half to even, or per line, would give 0.00)
    assert (draft.net, draft.tax, draft.gross) == (D("0.10"), D("0.01"), D("0.11"))
    assert invoicing.vat_breakdown(draft.lines.all()) == [("S", D(5), D("0.10"), D("0.01"))]


def test_a_removed_line_is_billed_again_by_the_next_run(cast, books):
    run(cast)
    line = acme_draft(cast).lines.get(description="Monitoring (2026-11)")
    issuing.remove_invoice_line(cast.admin, line, source=Source.CLI)
    assert run(cast).lines_made == 1


def _sums_to_zero():
    for posted in LedgerTransaction.objects.all():
        assert ledger.total(posted.legs.all()) == 0, posted


def test_approval_owes_each_line_split_to_the_cent(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    run(cast)
    invoice = issuing.approve_invoice(cast.admin, acme_draft(cast), source=Source.CLI)
    _sums_to_zero()
    for line in invoice.lines.exclude(net=0):
        split = line.transactions.get(kind="split")
        shares = split.legs.exclude(account__kind="revenue")
        assert ledger.total(shares) == -line.net
    partner_time = invoice.lines.get(description="Partner time").transactions.get()
    by_rule = {
        (leg.rule, str(leg.account)): leg.amount for leg in partner_time.legs.exclude(rule="")
    }
    assert by_rule == {
        ("origination", "Share owed · Paula Partner"): D("-36.00"),
        ("delivery", "Share owed · Paula Partner"): D("-117.00"),
        ("pool", "Share owed · The practice pool"): D("-18.00"),
        ("network", "Share owed · The network"): D("-9.00"),
    }
    assert partner_time.facts["time_entries"] == list(
        invoice.lines.get(description="Partner time").time_entries.values_list("pk", flat=True)
    )


def _balances():
    return {
        str(acct): ledger.balance(acct) for acct in Account.objects.all() if ledger.balance(acct)
    }


def test_payment_makes_shares_payable_and_a_credit_note_reverses_everything(cast, books):
    run(cast)
    invoice = issuing.approve_invoice(cast.admin, acme_draft(cast), source=Source.CLI)
    owed = _balances()["Share owed · Paula Partner"]
    issuing.mark_paid(cast.admin, invoice, source=Source.CLI)
    after = _balances()
    assert "Share owed · Paula Partner" not in after
    assert after["Share payable · Paula Partner"] == owed
    assert after["Cash · The practice"] == invoice.gross
    issuing.credit_invoice(cast.admin, invoice, source=Source.CLI)
    _sums_to_zero()
    assert _balances() == {}
    originals = LedgerTransaction.objects.exclude(kind="reversal")
    assert all(hasattr(t, "reversed_by") for t in originals)


def test_the_ledger_is_append_only_and_refuses_what_does_not_balance(cast, books):
    run(cast)
    invoice = issuing.approve_invoice(cast.admin, acme_draft(cast), source=Source.CLI)
    leg = Leg.objects.first()
    with pytest.raises(PermissionError):
        leg.save()
    with pytest.raises(PermissionError):
        Leg.objects.filter(pk=leg.pk).update(amount=D(1))
    with pytest.raises(PermissionError):
        LedgerTransaction.objects.all().delete()
    cash = Account.objects.get(kind="receivable")
    with pytest.raises(ledger.Unbalanced, match=r"sum to 2\.00"):
        ledger.post(
            cast.security,
            "payment",
            "x",
            [ledger.Entry(cash, D("1.00")), ledger.Entry(cash, D("0.00"))] * 2,
        )
    first = invoice.transactions.first()
    ledger.reverse(first, "undo")
    with pytest.raises(ledger.Unbalanced, match="already reversed"):
        ledger.reverse(first, "again")


def test_block_hours_bill_the_block_once_and_time_beyond_it_at_the_rate(cast, book_time):
    block = services.create_contract(
        cast.admin,
        client=cast.globex,
        practice=cast.security,
        kind="block_hours",
        name="Ten hours",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=600,
        block_price=D("900.00"),
        source=Source.CLI,
    )
    rate = services.add_contract_line(
        cast.admin,
        block,
        description="Support",
        unit="hour",
        price=D("100.00"),
        source=Source.CLI,
    )
    book_time(cast.other_partner, rate, 8 * 60)
    run(cast)
    first = lines_of(Invoice.objects.get(client=cast.globex))
    assert first == {
        "Block of 10.00 prepaid hours: Ten hours": (D(1), D("900.00"), D("900.00")),
        "Support beyond the block": (D("0.00"), D("100.00"), D("0.00")),
    }
    book_time(cast.other_partner, rate, 3 * 60, day=dt.date(2026, 12, 2))
    run(cast, dt.date(2026, 12, 1))
    december = Invoice.objects.get(client=cast.globex, month=dt.date(2026, 12, 1))
    line = december.lines.get()
    assert (line.quantity, line.net) == (D("1.00"), D("100.00"))
    assert line.quantity_source == "3.00 h worked, 2.00 h from the block"


def test_delivery_by_resolved_tickets_and_the_desks_fee_for_those_it_resolved(cast, books):
    from django.utils import timezone

    from thirdway.tickets import services as tickets

    services.update_settings(
        cast.admin, cast.security, {"delivery_basis": "tickets"}, source=Source.CLI
    )
    for who in (cast.partner_record, cast.partner_record, cast.desk_record):
        ticket = tickets.create_ticket(
            cast.admin,
            cast.acme,
            subject="Virus",
            body_text="Help",
            source=Source.CLI,
            practice_id=cast.security.pk,
        )
        tickets.assign(cast.admin, ticket, who, source=Source.CLI)
        tickets.change_status(cast.admin, ticket, "resolved", source=Source.CLI)
    month = timezone.localdate().replace(day=1)
    run(cast, month)
    invoice = issuing.approve_invoice(
        cast.admin, Invoice.objects.get(client=cast.acme, month=month), source=Source.CLI
    )
    monitoring = invoice.lines.get(description__startswith="Monitoring").transactions.get()
    by_rule = {(leg.rule, str(leg.account)): leg.amount for leg in monitoring.legs.exclude(rule="")}
    assert by_rule == {
        ("origination", "Share owed · Paula Partner"): D("-20.00"),
        # 60 % and the 2/3 of the desk fee the desk did not earn, all Paula's two tickets
        ("delivery", "Share owed · Paula Partner"): D("-63.33"),
        ("pool", "Share owed · The practice pool"): D("-10.00"),
        ("network", "Share owed · The network"): D("-5.00"),
        ("desk_fee", "Share owed · The desk"): D("-1.67"),
    }
    assert monitoring.facts["tickets_resolved"] == 3
    assert monitoring.facts["desk_resolved"] == 1


def test_an_invoice_of_hours_from_the_block_moves_no_money_and_a_credit_note_is_not_paid(
    cast, book_time
):
    block = services.create_contract(
        cast.admin,
        client=cast.globex,
        practice=cast.security,
        kind="block_hours",
        name="Two hours",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=120,
        block_price=D("180.00"),
        source=Source.CLI,
    )
    rate = services.add_contract_line(
        cast.admin,
        block,
        description="Support",
        unit="hour",
        price=D("100.00"),
        source=Source.CLI,
    )
    book_time(cast.other_partner, rate, 60)
    run(cast)
    draft = Invoice.objects.get(client=cast.globex)
    issuing.remove_invoice_line(
        cast.admin, draft.lines.get(description__startswith="Block"), source=Source.CLI
    )
    invoice = issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
    assert invoice.gross == 0 and not invoice.transactions.exists()
    assert issuing.mark_paid(cast.admin, invoice, source=Source.CLI).state == "paid"
    run(cast)
    paid = issuing.approve_invoice(
        cast.admin, Invoice.objects.get(client=cast.globex, state="draft"), source=Source.CLI
    )
    note = issuing.credit_invoice(cast.admin, paid, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        issuing.mark_paid(cast.admin, note, source=Source.CLI)
    assert "kind" in refused.value.error_dict


@pytest.mark.parametrize(
    "whose",
    [{}, {"partner": "partner"}, {"client": "client"}, {"partner": "partner", "client": "client"}],
    ids=["neither", "partner", "client", "both"],
)
def test_one_account_per_holder_even_with_an_empty_partner_or_client(cast, books, whose):
    """The database itself keeps one account per practice, kind, holder, partner and client,
    an empty partner or client counting as a value (on SQLite as on PostgreSQL)."""
    from django.db import IntegrityError, transaction

    from thirdway.clients.models import Client

    ids = {"partner": cast.partner_record, "client": Client.objects.order_by("pk").first()}
    fields = {name: ids[name] for name in whose}
    first = ledger.account(cast.security, "owed", "partner", **fields)
    assert ledger.account(cast.security, "owed", "partner", **fields) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(
            practice=cast.security, kind="owed", holder="partner", currency="EUR", **fields
        )
