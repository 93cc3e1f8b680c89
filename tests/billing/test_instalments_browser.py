"""Capital returned and a buy-out paid in instalments in a real browser: the admin's return
and schedule refused beside their fields (nothing written), then made; an instalment marked
paid once; the partner bought out reads their schedule; the pages at desktop and phone
size."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from support.browser import DESKTOP, sign_in
from thirdway.audit.models import Source
from thirdway.billing import capital, instalments
from thirdway.billing.models import BuyOutInstalment, LedgerTransaction

from .capital_cast import D, join_security, terms
from .test_terms_browser import SHOTS_DIRECTORY, shoot


@pytest.mark.browser
def test_the_admin_agrees_instalments_and_the_partner_reads_them(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    join_security(cast)
    paula = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, paula, D("1000.00"), source=Source.CLI)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/capital/{paula.pk}/")
    page.get_by_role("link", name="Return capital").click()
    page.locator("input[name=amount]").fill("1000.01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid:has([name=amount])")).to_contain_text("0.01 to 1000.00")
    shoot(page, shots, "capital-return-invalid")
    assert not LedgerTransaction.objects.filter(kind="return").exists()
    page.locator("input[name=amount]").fill("200")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#capital-entries")).to_contain_text("Capital returned")
    expect(page.locator("#capital-summary")).to_contain_text("800.00 EUR")
    page.get_by_role("button", name="Record the buy-out").click()
    expect(page.locator("#buy-out")).to_contain_text("800.00")
    page.get_by_role("link", name="Agree instalments").click()
    page.locator("input[name=instalments]").fill("121")
    page.locator("input[name=first_due_on]").fill("2020-01-01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid:has([name=instalments])")).to_contain_text("1 to 120")
    shoot(page, shots, "instalments-invalid")
    page.locator("input[name=instalments]").fill("3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid:has([name=first_due_on])")).to_contain_text("buy-out")
    page.locator("input[name=first_due_on]").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.locator("input[name=amounts]").fill("500 400 99.99")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid:has([name=amounts])")).to_contain_text("800.00")
    assert not BuyOutInstalment.objects.exists()
    page.locator("input[name=amounts]").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#instalment-schedule")).to_contain_text("266.67")
    expect(page.locator("#instalments-summary")).to_contain_text("800.00")
    page.get_by_role("button", name="Mark paid").first.click()
    expect(page.locator("#instalments-summary")).to_contain_text("533.33")
    expect(page.locator("#instalment-schedule")).to_contain_text("paid")
    expect(page.locator("#capital-entries")).to_contain_text("Buy-out")
    shoot(page, shots, "instalments-admin")
    assert LedgerTransaction.objects.filter(kind="instalment").count() == 1
    # paid by standing order from now on: the clock posts the next one on its due day
    page.get_by_role("button", name="Pay by standing order").click()
    expect(page.locator("#standing-order")).to_contain_text("Paid by standing order")
    second_due = BuyOutInstalment.objects.get(number=2).due_on
    assert instalments.post_due_standing_orders(second_due, source=Source.SYSTEM) == {
        "posted": 1,
        "failed": 0,
    }
    page.reload()
    expect(page.locator("#instalments-summary")).to_contain_text("266.66")
    shoot(page, shots, "instalments-standing-order")
    page.get_by_role("button", name="Stop the standing order").click()
    expect(page.locator("#standing-order")).to_contain_text("when marked paid")
    assert instalments.post_due_standing_orders(
        second_due + dt.timedelta(days=400), source=Source.SYSTEM
    ) == {"posted": 0, "failed": 0}

    mine = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(mine, live_server.url, "paula", "/billing/statements/")
    expect(mine.locator("#capital-cards")).to_contain_text("bought out")
    mine.locator("#capital-cards a").click()
    expect(mine.locator("#instalments-summary")).to_contain_text("533.34")
    expect(mine.get_by_role("button", name="Mark paid")).to_have_count(0)
    expect(mine.get_by_role("button", name="Pay by standing order")).to_have_count(0)
    shoot(mine, shots, "instalments-partner")
