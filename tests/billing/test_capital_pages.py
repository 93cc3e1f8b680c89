"""Capital pages: the admin sees every account and changes them, a partner only theirs (beside
their statement), anyone else nothing; refused input leaves the page with the error and writes
nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from thirdway.billing.models import CapitalTerms, LedgerTransaction, PoolAllocation

from .capital_cast import join_security, paid_invoice, terms


@pytest.fixture
def accounts(cast):
    join_security(cast)
    return terms(cast, cast.partner_record), terms(cast, cast.other_partner_record, units=30)


def test_a_partner_sees_their_own_account_beside_their_statement(cast, accounts, web_as):
    paula, oscar = accounts
    client = web_as(cast.partner)
    listing = client.get("/billing/capital/").content.decode()
    assert "Paula Partner" in listing and "Oscar" not in listing
    assert client.get(f"/billing/capital/{paula.pk}/").status_code == 200
    assert client.get(f"/billing/capital/{oscar.pk}/").status_code == 404
    statement = client.get("/billing/statements/").content.decode()
    assert 'id="capital-cards"' in statement and f"/billing/capital/{paula.pk}/" in statement
    for url in (f"/billing/capital/{paula.pk}/terms/", f"/billing/capital/{paula.pk}/buy-in/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/billing/capital/{paula.pk}/buy-out/").status_code == 403
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("role", ["client_admin", "client_user", "outsider"])
def test_anyone_outside_the_network_finds_nothing(cast, accounts, web_as, role):
    paula, _ = accounts
    client = web_as(getattr(cast, role))
    assert client.get("/billing/capital/").status_code == 404
    assert client.get(f"/billing/capital/{paula.pk}/").status_code == 404


def test_the_admin_refused_then_accepted(cast, books, accounts, web_as):
    paula, _ = accounts
    admin = web_as(cast.admin)
    page = admin.get("/billing/capital/").content.decode()
    assert "Paula Partner" in page and "Oscar" in page
    refused = admin.post(
        f"/billing/capital/{paula.pk}/terms/",
        {
            "buy_in": "-5",
            "buy_in_method": "at_once",
            "withhold_percent": "0",
            "units": "0",
            "vesting_starts_on": "2026-01-01",
            "vesting_months": "121",
        },
    )
    body = refused.content.decode()
    assert refused.status_code == 200 and body.count('class="field invalid"') == 3
    assert CapitalTerms.objects.get(pk=paula.pk).units == 10
    too_much = admin.post(f"/billing/capital/{paula.pk}/buy-in/", {"amount": "1000.01"})
    assert "0.01 to 1000.00" in too_much.content.decode()
    assert not LedgerTransaction.objects.exists()
    paid = admin.post(f"/billing/capital/{paula.pk}/buy-in/", {"amount": "100.00"})
    assert paid.status_code == 302
    paid_invoice(cast)
    month = f"{timezone.localdate():%Y-%m}"
    preview = admin.get(f"/billing/capital/?practice={cast.security.pk}&month={month}")
    assert 'id="allocation-preview"' in preview.content.decode()
    assert not PoolAllocation.objects.exists()
    bad = admin.post(
        "/billing/capital/allocate/", {"practice": cast.security.pk, "month": "2099-01"}
    )
    assert bad.status_code == 400 and "has not begun" in bad.content.decode()
    for _ in range(2):
        made = admin.post(
            "/billing/capital/allocate/", {"practice": cast.security.pk, "month": month}
        )
        assert made.status_code == 302
    assert PoolAllocation.objects.count() == 1
    detail = admin.get(f"/billing/capital/{paula.pk}/").content.decode()
    assert "Pool allocated" in detail and "Buy-in paid" in detail


def test_a_buy_out_on_the_statement_reads_without_a_share_link(cast, books, accounts, web_as):
    from thirdway.audit.models import Source
    from thirdway.billing import capital

    paula, _ = accounts
    capital.record_buy_in(cast.admin, paula, capital.buy_in_left(paula), source=Source.CLI)
    capital.record_buy_out(cast.admin, paula, source=Source.CLI)
    for user in (cast.admin, cast.partner):
        page = web_as(user).get(f"/billing/statements/?partner={cast.partner_record.pk}")
        assert page.status_code == 200
        assert "Buy-out of Paula Partner" in page.content.decode()
