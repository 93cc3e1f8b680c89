"""On PostgreSQL: the ledger's balance triggers, and two invoice runs at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.billing import invoicing, ledger, month_end
from thirdway.billing.models import (
    Account,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    Leg,
    TimeEntry,
)

from .weeks import approve_weeks

MONTH = dt.date(2026, 11, 1)
D5 = Decimal(5)


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's constraint triggers and row locks; SQLite writes one at a time")


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_does_not_balance_is_refused_at_commit(cast, books):
    _postgresql_only()
    account = ledger.account(cast.security, "cash", "practice")
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        # around the check in Python, as a careless script would
        posted = LedgerTransaction.objects.create(
            practice=cast.security, kind="payment", at=timezone.now(), memo="one-legged"
        )
        Leg.objects.bulk_create([Leg(transaction=posted, account=account, amount=Decimal(5))])
    assert not LedgerTransaction.objects.filter(memo="one-legged").exists()
    assert Account.objects.filter(pk=account.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_leg_changed_or_removed_behind_the_ledger_is_refused(cast, books):
    _postgresql_only()
    cash = ledger.account(cast.security, "cash", "practice")
    revenue = ledger.account(cast.security, "revenue", "practice")
    posted = ledger.post(
        cast.security, "payment", "paid", [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5)]
    )
    leg = posted.legs.order_by("pk").first()
    for sql in (
        "UPDATE billing_leg SET amount = 7 WHERE id = %s",
        "DELETE FROM billing_leg WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="does not balance"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [leg.pk])
    assert ledger.total(posted.legs.all()) == 0
    assert posted.legs.count() == 2


@pytest.mark.django_db(transaction=True)
def test_many_transactions_posted_over_several_inserts_each_balance(cast, books, monkeypatch):
    _postgresql_only()
    monkeypatch.setattr(ledger, "LEGS_PER_INSERT", 5)  # three legs each: never two in one
    cash = ledger.account(cast.security, "cash", "practice")
    revenue = ledger.account(cast.security, "revenue", "practice")
    tax = ledger.account(cast.security, "tax", "practice")
    legs = [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5 + 1), ledger.Entry(tax, -Decimal(1))]
    pending = [ledger.Pending("payment", f"paid {n}", legs) for n in range(7)]
    posted = LedgerTransaction.objects.filter(pk__in=ledger.post_all(cast.security, pending))
    assert [ledger.total(each.legs.all()) for each in posted] == [0] * 7
    assert Leg.objects.filter(transaction__in=posted).count() == 21


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_bill_a_line_twice(cast, books, book_time):
    _postgresql_only()
    for day in range(1, 21):
        book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 11, day))
    approve_weeks(cast)
    start = threading.Barrier(2)
    made, failures = [], []

    def one_run():
        try:
            start.wait()
            made.append(invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI))
        except Exception as error:  # reported below: a thread's exception would be lost
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    claims = Counter(InvoiceLine.objects.exclude(claim=None).values_list("claim", flat=True))
    assert set(claims.values()) == {1}
    assert len(claims) == 4  # three monthly lines of Acme, one of Globex
    assert not TimeEntry.objects.filter(invoice_line__isnull=True).exists()
    billed = InvoiceLine.objects.filter(description="Partner time")
    assert sum(line.quantity for line in billed) == Decimal(10)
    assert sum(run.lines_made for run in made) == 5


@pytest.mark.django_db(transaction=True)
def test_approvals_at_once_take_consecutive_numbers(cast, books):
    _postgresql_only()
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    drafts = list(Invoice.objects.filter(state="draft"))
    start = threading.Barrier(len(drafts))
    failures = []

    def approve(draft):
        try:
            start.wait()
            invoicing.approve_invoice(cast.admin, draft, source=Source.CLI)
        except Exception as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == ["INV-000001", "INV-000002"]


@pytest.mark.django_db(transaction=True)
def test_the_month_end_approval_and_one_approval_at_once_take_consecutive_numbers(cast, books):
    _postgresql_only()
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    draft = Invoice.objects.filter(state="draft").order_by("-pk").first()
    start = threading.Barrier(2)
    failures = []

    def at_once(work):
        try:
            start.wait()
            work()
        except Exception as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    works = [
        lambda: invoicing.approve_invoice(cast.admin, draft, source=Source.CLI),
        lambda: month_end.approve_drafts(cast.admin, cast.security, MONTH, source=Source.CLI),
    ]
    threads = [threading.Thread(target=at_once, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # whichever came second found the draft approved already: refused, or left out
    assert [error.message_dict for error in failures] in (
        [],
        [{"state": ["The invoice is approved."]}],
    )
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == ["INV-000001", "INV-000002"]
    assert LedgerTransaction.objects.filter(kind="invoice").count() == 2
