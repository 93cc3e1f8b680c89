"""The month-end in bulk: every draft made and approved a few hundred at a time, with the same
lines, numbers and ledger as one at a time."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import invoicing, issuing, ledger, month_end
from thirdway.billing import proposals as proposals_module
from thirdway.billing.models import Invoice, InvoiceLine, LedgerTransaction, TimeEntry

from .weeks import approve_weeks

MONTH = dt.date(2026, 11, 1)


def _run(cast):
    approve_weeks(cast)
    return invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)


def _approve_all(cast):
    return month_end.approve_drafts(cast.admin, cast.security, MONTH, source=Source.CLI)


def _books():
    invoices = sorted(
        (i.number, i.client_id, i.state, i.net, i.tax, i.gross) for i in Invoice.objects.all()
    )
    posted = sorted(
        (
            t.kind,
            t.memo,
            t.invoice.number,
            t.invoice_line.description if t.invoice_line else "",
            json.dumps(t.facts, sort_keys=True),
            tuple(sorted((str(leg.account), leg.amount, leg.rule) for leg in t.legs.all())),
        )
        for t in LedgerTransaction.objects.all()
    )
    return invoices, posted


def test_the_month_end_approval_posts_what_approving_one_by_one_posts(
    cast, books, book_time, monkeypatch
):
    book_time(cast.partner, books.partner_rate, 90)
    book_time(cast.associate, books.associate_rate, 45)
    book_time(cast.partner, books.partner_rate, 15, billing_status="no_charge")
    _run(cast)
    with transaction.atomic():
        for draft in Invoice.objects.filter(state="draft").order_by("pk"):
            issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
        one_by_one = _books()
        transaction.set_rollback(True)
    assert not LedgerTransaction.objects.exists()
    monkeypatch.setattr(month_end, "APPROVALS_PER_COMMIT", 1)  # a transaction each
    approved = _approve_all(cast)
    assert [invoice.number for invoice in approved] == ["INV-000001", "INV-000002"]
    assert _books() == one_by_one
    assert len(one_by_one[1]) > 2
    for posted in LedgerTransaction.objects.all():
        assert ledger.total(posted.legs.all()) == 0
    actions = AuditRecord.objects.filter(action="invoice.approve")
    numbers = sorted(changes["number"][1] for changes in actions.values_list("changes", flat=True))
    assert numbers == ["INV-000001", "INV-000002"]


def test_numbers_follow_those_taken_already_and_a_draft_without_lines_stays_a_draft(cast, books):
    _run(cast)
    acme = Invoice.objects.get(client=cast.acme, state="draft")
    globex = Invoice.objects.get(client=cast.globex, state="draft")
    issuing.approve_invoice(cast.admin, globex, source=Source.CLI)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    for line in acme.lines.all():
        issuing.remove_invoice_line(cast.admin, line, source=Source.CLI)
    assert _approve_all(cast) == []
    acme.refresh_from_db()
    assert acme.state == "draft"
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    assert [invoice.number for invoice in _approve_all(cast)] == ["INV-000002"]
    assert _approve_all(cast) == []


def test_a_run_in_many_commits_bills_each_thing_once_and_a_rerun_nothing(
    cast, books, book_time, monkeypatch
):
    monkeypatch.setattr(invoicing, "CLIENTS_PER_COMMIT", 1)
    book_time(cast.partner, books.partner_rate, 60)
    book_time(cast.associate, books.associate_rate, 30)
    made = _run(cast)
    assert (made.invoices_made, made.lines_made) == (2, 6)
    assert not TimeEntry.objects.filter(invoice_line__isnull=True).exists()
    for invoice in Invoice.objects.all():
        lines = list(invoice.lines.all())
        assert invoice.net == sum(line.net for line in lines)
    again = _run(cast)
    assert (again.invoices_made, again.lines_made) == (0, 0)


def test_a_run_working_from_what_another_run_billed_since_bills_nothing(
    cast, books, book_time, monkeypatch
):
    book_time(cast.partner, books.partner_rate, 60)
    approve_weeks(cast)
    stale = invoicing.proposals(cast.security, MONTH)
    _run(cast)
    _approve_all(cast)  # no drafts left: the stale run tries the bulk insert first
    lines = InvoiceLine.objects.count()
    # the run reads its proposals in parts: the stale month as one part
    monkeypatch.setattr(invoicing, "proposals_in_parts", lambda practice, month, n: iter([stale]))
    late = invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    assert (late.invoices_made, late.lines_made) == (0, 0)
    assert InvoiceLine.objects.count() == lines
    assert not Invoice.objects.filter(state="draft").exists()


def test_the_preview_read_in_parts_is_the_preview_read_whole(cast, books, book_time, monkeypatch):
    book_time(cast.partner, books.partner_rate, 60)
    book_time(cast.associate, books.associate_rate, 30)
    approve_weeks(cast)
    whole = invoicing.proposals(cast.security, MONTH)
    monkeypatch.setattr(proposals_module, "CHUNK", 1)  # one client a part
    parts = list(proposals_module.proposals_in_parts(cast.security, MONTH, 1))
    assert len(parts) == len(whole) == 2
    assert invoicing.proposals(cast.security, MONTH) == whole
    assert [client_id for part in parts for client_id in part] == list(whole)
