"""Lists ask a fixed number of queries, however many contracts, invoices or time entries."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing, services

from .weeks import approve_weeks

MONTH = dt.date(2026, 11, 1)
LISTS = sorted(
    {
        "/billing/",
        "/billing/contracts/",
        "/billing/time/",
        "/billing/weeks/all/",
        "/billing/statements/?month=" + f"{dt.date.today():%Y-%m}",
        "/api/v1/contracts",
        "/api/v1/invoices",
        "/api/v1/time-entries",
        "/api/v1/statements/{paula}?month=" + f"{dt.date.today():%Y-%m}",
    }
)


def _queries(browser, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


def _more(cast, books, book_time, months):
    """More months of everything: contracts, time, approved invoices."""
    for month in months:
        first = dt.date(2027, 1 + month, 1)
        book_time(cast.partner, books.partner_rate, 30, day=first)
        services.create_contract(
            cast.admin,
            client=cast.acme,
            practice=cast.security,
            kind="block_hours",
            name=f"Block {month}",
            starts_on=first,
            ends_on=first + dt.timedelta(days=20),
            block_minutes=60,
            source=Source.CLI,
        )
        approve_weeks(cast)
        invoicing.run_invoices(cast.admin, cast.security, first, source=Source.CLI)
    for invoice in invoicing.Invoice.objects.filter(state="draft"):
        issuing.approve_invoice(cast.admin, invoice, source=Source.CLI)


def test_every_list_asks_as_many_queries_for_many_rows_as_for_few(cast, books, book_time, web_as):
    admin, paula = web_as(cast.admin), web_as(cast.partner)
    urls = [url.replace("{paula}", str(cast.partner_record.pk)) for url in LISTS]

    def counts():
        return {url: _queries(paula if "statements" in url else admin, url) for url in urls}

    _more(cast, books, book_time, range(1))
    few = counts()
    _more(cast, books, book_time, range(1, 4))
    assert counts() == few
