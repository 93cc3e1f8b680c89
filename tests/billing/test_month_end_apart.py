"""On PostgreSQL: the month-end's run and approval shared by two connections make what one
connection makes; numbers stay gapless and in the drafts' order, and a part that fails stops
every part after it."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import connection, transaction

from thirdway.audit.models import Source
from thirdway.billing import connections_apart, invoicing, month_end
from thirdway.billing.models import Invoice, InvoiceLine, LedgerTransaction, TimeEntry

from .test_month_end import _books
from .weeks import approve_weeks

MONTH = dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("one connection a process; SQLite writes one at a time")


def _book(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    book_time(cast.partner, books.partner_rate, 15, billing_status="no_charge")
    approve_weeks(cast)


def _run(cast, workers: int):
    return invoicing.run_invoices(
        cast.admin, cast.security, MONTH, source=Source.CLI, workers=workers
    )


def _approve(cast, workers: int):
    return month_end.approve_drafts(
        cast.admin, cast.security, MONTH, source=Source.CLI, workers=workers
    )


def _lines():
    return sorted(
        (
            line.invoice.client_id,
            line.description,
            line.quantity,
            line.net,
            line.claim or "",
            tuple(sorted(line.time_entries.values_list("pk", flat=True))),
        )
        for line in InvoiceLine.objects.select_related("invoice")
    )


@pytest.mark.django_db(transaction=True)
def test_the_run_on_two_connections_bills_what_one_bills_and_a_rerun_nothing(
    cast, books, book_time, monkeypatch
):
    _book(cast, books, book_time)
    monkeypatch.setattr(invoicing, "CLIENTS_PER_COMMIT", 1)  # a part per client
    with transaction.atomic():  # inside a transaction: one connection, whatever is asked
        one = _run(cast, workers=2)
        alone = _lines()
        transaction.set_rollback(True)
    assert not InvoiceLine.objects.exists()
    made = _run(cast, workers=2)
    assert _lines() == alone
    assert (made.invoices_made, made.lines_made) == (one.invoices_made, one.lines_made) == (2, 7)
    made.refresh_from_db()
    assert (made.invoices_made, made.lines_made) == (2, 7)
    assert not TimeEntry.objects.filter(invoice_line__isnull=True).exists()
    again = _run(cast, workers=2)
    assert (again.invoices_made, again.lines_made) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_approval_on_two_connections_posts_what_one_posts_numbered_in_order(
    cast, books, book_time, monkeypatch
):
    _book(cast, books, book_time)
    _run(cast, workers=1)
    monkeypatch.setattr(month_end, "APPROVALS_PER_COMMIT", 1)  # a part per draft
    with transaction.atomic():
        _approve(cast, workers=2)
        alone = _books()
        transaction.set_rollback(True)
    assert not LedgerTransaction.objects.exists()
    approved = _approve(cast, workers=2)
    drafts_in_order = sorted(approved, key=lambda invoice: invoice.pk)
    assert [invoice.number for invoice in drafts_in_order] == ["INV-000001", "INV-000002"]
    assert _books() == alone
    assert _approve(cast, workers=2) == []


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_stops_the_parts_after_it_and_takes_no_number(
    cast, books, book_time, monkeypatch
):
    _book(cast, books, book_time)
    _run(cast, workers=1)
    first = Invoice.objects.order_by("pk").first()
    monkeypatch.setattr(month_end, "APPROVALS_PER_COMMIT", 1)
    post_all = month_end.ledger.post_all

    def failing_for_the_first(practice, pending):
        if any(each.invoice.pk == first.pk for each in pending):
            raise RuntimeError("the first part fails as it posts")
        return post_all(practice, pending)

    monkeypatch.setattr(month_end.ledger, "post_all", failing_for_the_first)
    with pytest.raises(RuntimeError, match="the first part fails"):
        _approve(cast, workers=2)
    assert set(Invoice.objects.values_list("state", flat=True)) == {"draft"}
    assert not LedgerTransaction.objects.exists()
    monkeypatch.setattr(month_end.ledger, "post_all", post_all)
    approved = _approve(cast, workers=2)
    assert [invoice.number for invoice in approved] == ["INV-000001", "INV-000002"]
    assert approved[0].pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_a_part_whose_process_dies_is_reported_and_its_index_given_as_lost():
    lost: list[int] = []

    def work(index: int, part: str) -> str:
        if index == 1:
            os._exit(3)  # as a process killed in its part
        return part.upper()

    with pytest.raises(RuntimeError, match="Part 1 was never done"):
        connections_apart.in_processes(work, ["a", "b", "c", "d"], 2, lost.append)
    assert lost == [1]
    assert connections_apart.in_processes(work, ["a"], 2) == ["A"]  # one part: one process


@pytest.mark.django_db(transaction=True)
def test_a_part_s_error_is_raised_in_the_parent():
    def work(index: int, part: int) -> int:
        if index == 0:
            raise ValueError("the first part is refused")
        return part

    with pytest.raises(ValueError, match="the first part is refused"):
        connections_apart.in_processes(work, list(range(40)), 2)
