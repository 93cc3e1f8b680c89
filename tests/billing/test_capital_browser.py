"""Capital accounts in a real browser: the admin's terms, buy-in and the pool's allocation each
refused with the error beside its field (nothing written), then accepted; the partner's account
beside their statement; the pages at desktop and phone size."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from support.browser import DESKTOP, sign_in
from thirdway.billing.models import CapitalTerms, LedgerTransaction, PoolAllocation

from .capital_cast import D, join_security, paid_invoice
from .test_terms_browser import SHOTS_DIRECTORY, shoot


@pytest.mark.browser
def test_the_admin_sets_capital_terms_and_the_partner_sees_their_account(
    cast, books, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    join_security(cast)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/capital/")
    page.get_by_role("link", name="Set a partner's terms").click()
    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("select[name=partner]").select_option(label="Paula Partner")
    page.locator("input[name=buy_in]").fill("-5")
    page.locator("input[name=units]").fill("0")
    page.locator("input[name=vesting_starts_on]").fill("2025-01-01")
    page.locator("input[name=vesting_months]").fill("121")
    page.get_by_role("button", name="Save").click()
    for name, allowed in (("units", "1 to 1000000"), ("vesting_months", "0 to 120 months")):
        expect(page.locator(f".field.invalid:has([name={name}])")).to_contain_text(allowed)
    expect(page.locator(".field.invalid:has([name=buy_in])")).to_contain_text("0 or more")
    shoot(page, shots, "capital-terms-invalid")
    assert not CapitalTerms.objects.exists()

    page.locator("input[name=buy_in]").fill("1000")
    page.locator("input[name=units]").fill("10")
    page.locator("input[name=vesting_months]").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#capital-summary")).to_contain_text("10.00 / 10")
    terms = CapitalTerms.objects.get()

    page.get_by_role("link", name="Record a buy-in payment").click()
    page.locator("input[name=amount]").fill("1200")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid")).to_contain_text("0.01 to 1000.00")
    shoot(page, shots, "capital-buy-in-invalid")
    assert not LedgerTransaction.objects.exists()
    page.locator("input[name=amount]").fill("400")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#capital-entries")).to_contain_text("Buy-in paid")
    expect(page.locator("#capital-summary")).to_contain_text("400.00 EUR")

    paid_invoice(cast)
    page.goto(f"{live_server.url}/billing/capital/")
    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("input[name=month]").fill("2099-01")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".field.invalid:has([name=month])")).to_contain_text("has not begun")
    shoot(page, shots, "capital-allocate-invalid")
    assert not PoolAllocation.objects.exists()
    month = f"{timezone.localdate():%Y-%m}"
    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("input[name=month]").fill(month)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#allocation-preview")).to_contain_text("Paula Partner")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator("#allocations")).to_contain_text(month)
    shoot(page, shots, "capital-list")
    assert PoolAllocation.objects.count() == 1
    page.get_by_role("link", name="Paula Partner").click()
    expect(page.locator("#capital-entries")).to_contain_text("Pool allocated")
    shoot(page, shots, "capital-account-admin")

    mine = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(mine, live_server.url, "paula", "/billing/statements/")
    expect(mine.locator("#capital-cards")).to_contain_text("Capital · Security")
    shoot(mine, shots, "statement-with-capital")
    mine.locator("#capital-cards a").click()
    expect(mine.locator("#capital-summary")).to_contain_text("Balance")
    expect(mine.locator("#buy-out")).to_contain_text("Buy-out today")
    expect(mine.get_by_role("button", name="Record the buy-out")).to_have_count(0)
    shoot(mine, shots, "capital-account-partner")
    assert terms.pk and D("400.00") <= sum(
        -leg.amount
        for leg in LedgerTransaction.objects.get(kind="buy_in").legs.all()
        if leg.account.kind == "capital"
    )
