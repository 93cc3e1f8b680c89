"""On PostgreSQL: the ledger's balance triggers, two invoice runs at once, and an invoice run
and the un-mark of a milestone at once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing, ledger, month_end, projects
from thirdway.billing.models import (
    Account,
    Invoice,
    InvoiceLine,
    LedgerTransaction,
    Leg,
    TimeEntry,
)

from .conftest import contract, line
from .test_projects import three
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
def test_legs_inserted_into_a_posted_transaction_must_balance_among_themselves(cast, books):
    """An insert is checked on the legs it adds: a posted transaction balances, so after the
    insert it balances exactly when the added legs sum to zero for it."""
    _postgresql_only()
    cash = ledger.account(cast.security, "cash", "practice")
    revenue = ledger.account(cast.security, "revenue", "practice")
    first = ledger.post(
        cast.security, "payment", "one", [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5)]
    )
    second = ledger.post(
        cast.security, "payment", "two", [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5)]
    )
    insert = (
        "INSERT INTO billing_leg (transaction_id, account_id, amount, rule) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::text[])"
    )
    refused = (
        # one leg more on a balanced transaction
        ([first.pk], [cash.pk], [Decimal(1)], [""]),
        # the second transaction's added legs balance, the first's do not
        (
            [second.pk, second.pk, first.pk],
            [cash.pk, revenue.pk, cash.pk],
            [Decimal(2), Decimal(-2), Decimal("0.01")],
            ["", "", ""],
        ),
    )
    for params in refused:
        with (
            pytest.raises(IntegrityError, match=f"transaction {first.pk} does not balance"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(insert, list(params))
    with connection.cursor() as cursor:
        cursor.execute(
            insert,
            [[first.pk, first.pk], [cash.pk, revenue.pk], [Decimal(3), Decimal(-3)], ["", ""]],
        )
    assert [ledger.total(each.legs.all()) for each in (first, second)] == [0, 0]
    assert (first.legs.count(), second.legs.count()) == (4, 2)


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
def test_a_leg_naming_a_missing_account_or_transaction_is_refused(cast, books):
    _postgresql_only()
    cash = ledger.account(cast.security, "cash", "practice")
    revenue = ledger.account(cast.security, "revenue", "practice")
    posted = ledger.post(
        cast.security, "payment", "paid", [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5)]
    )
    insert = (
        "INSERT INTO billing_leg (transaction_id, account_id, amount, rule) VALUES (%s, %s, 0, '')"
    )
    for tx, account, missing in ((posted.pk, 10**9, "an account"), (10**9, cash.pk, "a ledger")):
        with (
            pytest.raises(IntegrityError, match=f"names {missing}"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(insert, [tx, account])
    assert posted.legs.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_account_or_transaction_with_legs_cannot_be_deleted_behind_the_ledger(cast, books):
    _postgresql_only()
    cash = ledger.account(cast.security, "cash", "practice")
    revenue = ledger.account(cast.security, "revenue", "practice")
    unused = ledger.account(cast.security, "payable", "practice")
    posted = ledger.post(
        cast.security, "payment", "paid", [ledger.Entry(cash, D5), ledger.Entry(revenue, -D5)]
    )
    for sql, row in (
        ("DELETE FROM billing_account WHERE id = %s", cash.pk),
        ("UPDATE billing_account SET id = id + 1000000 WHERE id = %s", cash.pk),
        ("DELETE FROM billing_ledgertransaction WHERE id = %s", posted.pk),
    ):
        with (
            pytest.raises(IntegrityError, match="ledger legs still name"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row])
    with connection.cursor() as cursor:  # an account no leg names goes as before
        cursor.execute("DELETE FROM billing_account WHERE id = %s", [unused.pk])
    assert ledger.balance(cash) == D5
    assert not Account.objects.filter(pk=unused.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_texts_and_numbers_reach_postgresql_as_written(cast):
    _postgresql_only()
    from thirdway.billing import row_arrays

    words = ["plain", 'a "quoted" word', "back\\slash", "{braces}, commas", "NULL", "", None]
    amounts = [Decimal("12.50"), None, Decimal("-0.01"), 7]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::numeric[]",
            [row_arrays.texts(words), row_arrays.numbers(amounts)],
        )
        assert cursor.fetchone() == (words, amounts)


@pytest.mark.django_db(transaction=True)
def test_many_transactions_posted_over_several_inserts_each_balance(cast, books, monkeypatch):
    _postgresql_only()
    monkeypatch.setattr(ledger, "LEGS_PER_ARRAY", 5)  # three legs each: never two in one
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
            issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
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
        lambda: issuing.approve_invoice(cast.admin, draft, source=Source.CLI),
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


def _project_done(cast):
    """Acme's website with its first milestone marked done."""
    made = contract(
        cast,
        cast.acme,
        "project",
        "Acme website",
        fixed_price=Decimal("10000.00"),
        budget_minutes=60,
    )
    line(cast, made, "Project time", "hour", "125.00")
    design, *_ = three(cast, made)
    return projects.mark_done(cast.admin, design, source=Source.CLI)


def _together(*works):
    """Run each work in a thread of its own (its own connection); the errors they raised."""
    failures: list[Exception] = []

    def one(work):
        try:
            work()
        except Exception as error:  # reported to the test: a thread's exception would be lost
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


@pytest.mark.django_db(transaction=True)
def test_a_run_that_read_a_milestone_done_before_it_was_un_marked_leaves_it(cast, monkeypatch):
    _postgresql_only()
    design = _project_done(cast)
    read, unmarked = threading.Event(), threading.Event()
    parts = invoicing.proposals_in_parts

    def read_then_wait(*args, **kwargs):
        for part in parts(*args, **kwargs):
            read.set()  # the run has read the milestone as done
            assert unmarked.wait(timeout=30)
            yield part

    monkeypatch.setattr(invoicing, "proposals_in_parts", read_then_wait)

    def unmark():
        assert read.wait(timeout=30)
        try:
            projects.unmark_done(cast.admin, design, source=Source.CLI)
        finally:
            unmarked.set()

    failures = _together(
        lambda: invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI),
        unmark,
    )
    assert failures == []
    design.refresh_from_db()
    assert design.done_at is None
    assert not InvoiceLine.objects.filter(claim=design.claim).exists()


@pytest.mark.django_db(transaction=True)
def test_an_un_mark_waits_for_the_run_billing_the_milestone_and_is_then_refused(cast, monkeypatch):
    _postgresql_only()
    design = _project_done(cast)
    locked = threading.Event()
    lock = invoicing.lock_billed_milestones

    def lock_and_hold(claims):
        done = lock(claims)
        locked.set()
        time.sleep(0.5)  # the un-mark starts meanwhile and waits on the milestone's row
        return done

    monkeypatch.setattr(invoicing, "lock_billed_milestones", lock_and_hold)

    def unmark():
        assert locked.wait(timeout=30)
        projects.unmark_done(cast.admin, design, source=Source.CLI)

    failures = _together(
        lambda: invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI),
        unmark,
    )
    assert [type(error) for error in failures] == [ValidationError]
    assert "draft invoice of 2026-11" in failures[0].message_dict["done_at"][0]
    design.refresh_from_db()
    assert design.done_at is not None
    assert InvoiceLine.objects.filter(claim=design.claim).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_instalment_marked_paid_twice_at_once_is_posted_once(cast):
    _postgresql_only()
    from thirdway.billing import capital, instalments

    from .capital_cast import join_security, terms

    join_security(cast)
    paula = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, paula, Decimal("100.00"), source=Source.CLI)
    capital.record_buy_out(cast.admin, paula, source=Source.CLI)
    found = instalments.agree(
        cast.admin, paula, count=2, first_due_on=timezone.localdate(), source=Source.CLI
    )
    first = found.instalments[0]
    start = threading.Barrier(2)
    posted = []

    def pay():
        start.wait()
        posted.append(instalments.pay(cast.admin, first, source=Source.CLI)[1])

    assert _together(pay, pay) == []
    assert sorted(posted) == [False, True]
    assert LedgerTransaction.objects.filter(kind="instalment").count() == 1
