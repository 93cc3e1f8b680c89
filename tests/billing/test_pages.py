"""The billing pages: who sees what (404 outside one's scope), and the forms that write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing
from thirdway.billing.models import Contract, Invoice, Leg

from .weeks import approve_weeks

D = Decimal
MONTH = dt.date(2026, 11, 1)
ROLES = sorted(
    {
        "admin",
        "partner",
        "other_partner",
        "associate",
        "desk",
        "client_admin",
        "client_user",
        "other_client_admin",
        "outsider",
    }
)


@pytest.fixture
def billed(cast, books, book_time):
    """November billed: Acme's invoice approved and paid, Globex's left a draft."""
    book_time(cast.partner, books.partner_rate, 90, note="Firewall rules")
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    acme = Invoice.objects.get(client=cast.acme)
    issuing.approve_invoice(cast.admin, acme, source=Source.CLI)
    issuing.mark_paid(cast.admin, acme, source=Source.CLI)
    return acme, Invoice.objects.get(client=cast.globex)


def _status(browser, url):
    return browser.get(url).status_code


# Who sees each object's page: the practice admin everything; a partner their clients' contracts
# and invoices; a client admin their organisation's approved invoices.
SEES = {
    "acme_contract": {"admin", "partner", "associate"},
    "globex_contract": {"admin", "other_partner"},
    "acme_invoice": {"admin", "partner", "client_admin"},
    "globex_draft": {"admin", "other_partner"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_own_contracts_and_invoices(cast, books, billed, web_as, role):
    browser = web_as(getattr(cast, role))
    acme, globex = billed
    urls = {
        "acme_contract": f"/billing/contracts/{books.managed.pk}/",
        "globex_contract": f"/billing/contracts/{books.globex_managed.pk}/",
        "acme_invoice": f"/billing/invoices/{acme.pk}/",
        "globex_draft": f"/billing/invoices/{globex.pk}/",
    }
    for name, url in urls.items():
        assert _status(browser, url) == (200 if role in SEES[name] else 404), name
    listing = browser.get("/billing/")
    if listing.status_code == 200:
        html = listing.content.decode()
        assert ("Acme Bakery" in html) == (role in SEES["acme_invoice"])
        assert ("Globex Dental" in html) == (role in SEES["globex_draft"])
    else:
        assert listing.status_code == 404
        assert role in {"client_user", "outsider"}


@pytest.mark.parametrize("role", sorted({"partner", "associate", "desk", "client_admin"}))
def test_only_a_practice_admin_runs_invoices_or_acts_on_them(cast, billed, web_as, role):
    browser = web_as(getattr(cast, role))
    _, globex = billed
    assert _status(browser, "/billing/run/") in (403, 404)
    assert _status(browser, f"/billing/settings/{cast.security.pk}/") in (403, 404)
    answer = browser.post(f"/billing/invoices/{globex.pk}/approve/")
    assert answer.status_code in (403, 404)
    globex.refresh_from_db()
    assert globex.state == "draft"


def test_the_run_page_previews_then_makes_the_drafts(cast, books, web_as):
    browser = web_as(cast.admin)
    query = f"practice={cast.security.pk}&month=2026-11"
    html = browser.get(f"/billing/run/?{query}").content.decode()
    assert "Monitoring (2026-11)" in html and "2 devices among" in html
    assert not Invoice.objects.exists()
    answer = browser.post("/billing/run/", {"practice": cast.security.pk, "month": "2026-11"})
    assert answer.status_code == 302
    assert Invoice.objects.filter(state="draft").count() == 2
    again = browser.get(f"/billing/run/?{query}").content.decode()
    assert "Nothing left to bill" in again


def test_the_run_page_shows_a_bad_month_beside_the_field(cast, books, web_as):
    html = (
        web_as(cast.admin)
        .get(f"/billing/run/?practice={cast.security.pk}&month=November")
        .content.decode()
    )
    assert 'class="field invalid"' in html and "Enter a valid date" in html
    assert not Invoice.objects.exists()


def test_an_overlapping_contract_is_refused_beside_its_dates(cast, books, web_as):
    answer = web_as(cast.admin).post(
        "/billing/contracts/new/",
        {
            "client": cast.acme.pk,
            "practice": cast.security.pk,
            "kind": "managed",
            "name": "Overlap",
            "starts_on": "2026-06-01",
            "block_minutes": 0,
            "block_price": "0",
        },
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Acme managed" in html and "do not overlap" in html
    assert not Contract.objects.filter(name="Overlap").exists()


def test_a_contract_line_with_a_negative_price_is_refused_on_the_page(cast, books, web_as):
    answer = web_as(cast.admin).post(
        f"/billing/contracts/{books.managed.pk}/lines/new/",
        {
            "description": "Bad",
            "unit": "flat",
            "price": "-3",
            "vat_category": "S",
            "vat_rate": "20",
        },
    )
    assert "Ensure this value is greater than or equal to 0" in answer.content.decode()
    assert not books.managed.lines.filter(description="Bad").exists()


def test_a_partner_books_time_on_the_page(cast, books, web_as):
    browser = web_as(cast.partner)
    answer = browser.post(
        "/billing/time/new/",
        {
            "contract_line": books.partner_rate.pk,
            "worked_on": "2026-11-03",
            "kind": "work",
            "worked_minutes": "45",
            "billing_status": "billable",
        },
    )
    assert answer.status_code == 302
    assert "45 min" in browser.get("/billing/time/").content.decode()


def test_a_partner_sees_their_own_statement_and_drills_down_to_the_line(cast, billed, web_as):
    browser = web_as(cast.partner)
    html = browser.get(f"/billing/statements/?month={dt.date.today():%Y-%m}").content.decode()
    assert "Statement of Paula Partner" in html
    leg = Leg.objects.get(
        account__partner=cast.partner_record,
        account__kind="owed",
        rule="delivery",
        transaction__invoice_line__description="Partner time",
        transaction__kind="split",
    )
    assert f"/billing/statements/shares/{leg.pk}/" in html
    detail = browser.get(f"/billing/statements/shares/{leg.pk}/").content.decode()
    assert "Partner time" in detail and "Firewall rules" in detail and "delivery" in detail
    other = Leg.objects.filter(account__partner=cast.other_partner_record).first()
    if other is not None:
        assert _status(browser, f"/billing/statements/shares/{other.pk}/") == 404
    pool = Leg.objects.filter(account__holder="pool").first()
    assert _status(browser, f"/billing/statements/shares/{pool.pk}/") == 404


def test_a_partner_cannot_read_another_partners_statement(cast, billed, web_as):
    html = (
        web_as(cast.other_partner)
        .get(f"/billing/statements/?partner={cast.partner_record.pk}")
        .content.decode()
    )
    assert "Statement of Oscar Other" in html
    assert "Partner time" not in html
    assert _status(web_as(cast.client_admin), "/billing/statements/") == 404
    admin = (
        web_as(cast.admin)
        .get(f"/billing/statements/?partner={cast.partner_record.pk}")
        .content.decode()
    )
    assert "Statement of Paula Partner" in admin and "Partner time" in admin


def test_the_admin_approves_a_draft_on_its_page(cast, billed, web_as):
    _, globex = billed
    browser = web_as(cast.admin)
    answer = browser.post(f"/billing/invoices/{globex.pk}/approve/")
    assert answer.status_code == 302
    globex.refresh_from_db()
    assert globex.number == "INV-000002"
    html = browser.get(f"/billing/invoices/{globex.pk}/").content.decode()
    assert "INV-000002" in html and "Mark sent" in html and "origination" in html


def test_the_admin_adds_and_removes_lines_of_a_draft_on_its_page(cast, billed, web_as):
    _, globex = billed
    browser = web_as(cast.admin)
    refused = browser.post(
        f"/billing/invoices/{globex.pk}/lines/new/",
        {
            "description": "Router",
            "quantity": "1",
            "unit_price": "-40",
            "vat_category": "S",
            "vat_rate": "20",
        },
    )
    assert "The unit price is negative. Allowed: 0 or more." in refused.content.decode()
    added = browser.post(
        f"/billing/invoices/{globex.pk}/lines/new/",
        {
            "description": "Router",
            "quantity": "1",
            "unit_price": "40",
            "vat_category": "S",
            "vat_rate": "20",
        },
    )
    assert added.status_code == 302
    globex.refresh_from_db()
    assert (globex.net, globex.gross) == (D("240.00"), D("288.00"))
    line = globex.lines.get(description="Router")
    assert browser.post(f"/billing/invoices/{globex.pk}/lines/{line.pk}/remove/").status_code == 302
    globex.refresh_from_db()
    assert globex.net == D("200.00")
    paula = web_as(cast.partner)
    other = globex.lines.get()
    assert paula.post(f"/billing/invoices/{globex.pk}/lines/{other.pk}/remove/").status_code == 404
    assert globex.lines.count() == 1


def test_split_rules_that_do_not_add_up_are_refused_beside_the_field(cast, web_as):
    browser = web_as(cast.admin)
    url = f"/billing/settings/{cast.security.pk}/"
    form = {
        "currency": "EUR",
        "invoice_prefix": "INV-",
        "credit_note_prefix": "CN-",
        "origination": "20",
        "fade_years": "3",
        "delivery": "70",
        "delivery_basis": "time",
        "pool": "10",
        "network": "5",
        "desk_fee": "5",
        "referral": "0",
        "payment_days": "30",
    }
    html = browser.post(url, form).content.decode()
    assert "add up to 110" in html and 'class="field invalid"' in html
    assert browser.post(url, {**form, "delivery": "60"}).status_code == 302
    assert "Security" in browser.get("/billing/settings/", follow=True).content.decode()


def test_a_block_contract_shows_its_burn_down_and_a_managed_one_none(cast, books, web_as):
    from thirdway.billing import services

    block = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="block_hours",
        name="Ten hours",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=600,
        source=Source.CLI,
    )
    browser = web_as(cast.admin)
    page = browser.get(f"/billing/contracts/{block.pk}/").content.decode()
    assert f'id="burn-down-{block.pk}"' in page
    assert '<strong class="burn-left">10.00 h</strong>' in page
    managed = browser.get(f"/billing/contracts/{books.managed.pk}/").content.decode()
    assert 'class="burn-down' not in managed


# Every page of the room and who gets it (200); others get a 404, or a 403 for a practice
# admin's act seen by the network.
PAGES = {
    "/billing/": {
        "admin",
        "partner",
        "other_partner",
        "associate",
        "desk",
        "client_admin",
        "other_client_admin",
    },
    "/billing/contracts/": {"admin", "partner", "other_partner", "associate", "desk"},
    "/billing/contracts/new/": {"admin"},
    "/billing/contracts/{managed}/edit/": {"admin"},
    "/billing/contracts/{managed}/lines/new/": {"admin"},
    "/billing/contracts/{managed}/lines/{flat}/edit/": {"admin"},
    "/billing/time/": {"admin", "partner", "other_partner", "associate"},
    "/billing/time/new/": {"admin", "partner", "other_partner", "associate"},
    "/billing/run/": {"admin"},
    "/billing/statements/": {"admin", "partner", "other_partner", "associate", "desk"},
    "/billing/settings/{security}/": {"admin"},
    "/billing/invoices/{globex}/lines/new/": {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_its_scope_allows(cast, books, billed, web_as, role):
    browser = web_as(getattr(cast, role))
    names = {
        "managed": books.managed.pk,
        "flat": books.flat.pk,
        "security": cast.security.pk,
        "globex": billed[1].pk,
    }
    for page, allowed in PAGES.items():
        status = browser.get(page.format(**names)).status_code
        if role in allowed:
            assert status == 200, page
        else:
            assert status in (403, 404), page
            assert status == 404 or getattr(cast, role).is_network_staff, page
    entries = browser.get("/billing/time/").content.decode()
    assert ("Firewall rules" in entries) == (role in {"admin", "partner"})
