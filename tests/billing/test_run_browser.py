"""The invoice run in a real browser: a bad month is shown beside its field, a good one
previews the lines with where their quantities came from, and the drafts are made once."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.billing.models import Invoice

from .weeks import approve_weeks

# Screenshots go to the test's own directory, or where THIRDWAY_SHOTS says (to look at them).
SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


@pytest.mark.browser
def test_the_admin_previews_and_runs_the_month(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    book_time(cast.partner, books.partner_rate, 90, note="Firewall rules")
    approve_weeks(cast)  # the run bills approved time only
    url = live_server.url
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, url, "admin", "/billing/run/")
    expect(page).to_have_url(f"{url}/billing/run/")

    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("input[name=month]").fill("")  # the month input takes no impossible month
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".field.invalid")).to_contain_text("This field is required")
    page.screenshot(path=f"{shots}/run-invalid-desktop.png", full_page=True)

    page.locator("input[name=month]").fill("2026-11")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("2 devices among the client's assets on 2026-11-01")
    expect(preview).to_contain_text("Partner time")
    assert not Invoice.objects.exists()
    page.screenshot(path=f"{shots}/run-preview-desktop.png", full_page=True)

    page.get_by_role("button", name="Make the drafts").click()
    expect(page.locator("#invoice-rows")).to_contain_text("Acme Bakery")
    expect(page.locator("p.flash")).to_contain_text("2 new drafts")
    assert Invoice.objects.filter(state="draft").count() == 2

    page.locator("#invoice-rows tr", has_text="Acme Bakery").locator("a").click()
    page.get_by_role("button", name="Approve and number").click()
    expect(page.locator("h1")).to_contain_text("INV-000001")
    page.screenshot(path=f"{shots}/invoice-desktop.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/invoice-phone.png", full_page=True)
    assert fits(page)
    page.goto(f"{url}/billing/run/?practice={cast.security.pk}&month=2026-11")
    expect(page.locator("#nothing-to-bill")).to_be_visible()
    expect(page.locator("#month-drafts")).to_contain_text("1 draft of Security")
    page.screenshot(path=f"{shots}/run-phone.png", full_page=True)
    assert fits(page)
    page.get_by_role("button", name="Approve the 1 draft").click()
    expect(page.locator("p.flash")).to_contain_text("numbered INV-000002 to INV-000002")
    assert not Invoice.objects.filter(state="draft").exists()
    page.goto(f"{url}/billing/run/?practice={cast.security.pk}&month=2026-11")
    expect(page.locator("#no-drafts")).to_be_visible()
    page.goto(f"{url}/billing/statements/?partner={cast.partner_record.pk}")
    expect(page.locator("#statement-rows")).to_contain_text("Partner time")
    page.screenshot(path=f"{shots}/statement-phone.png", full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=f"{shots}/statement-desktop.png", full_page=True)


@pytest.mark.browser
def test_the_admin_chooses_how_many_processes_share_the_run(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    book_time(cast.partner, books.partner_rate, 90)
    approve_weeks(cast)
    url = live_server.url
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, url, "admin", "/billing/run/")
    expect(page.locator("input[name=workers]")).to_have_value("1")  # the setting's default

    page.locator("select[name=practice]").select_option(label="Security")
    page.locator("input[name=month]").fill("2026-11")
    page.locator("input[name=workers]").fill("9")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".field.invalid")).to_contain_text("less than or equal to 4")
    assert not Invoice.objects.exists()
    page.screenshot(path=f"{shots}/run-workers-invalid-desktop.png", full_page=True)

    page.locator("input[name=workers]").fill("2")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Partner time")
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/run-workers-phone.png", full_page=True)
    assert fits(page)
    page.get_by_role("button", name="Make the drafts").click()
    expect(page.locator("p.flash")).to_contain_text("2 new drafts")  # SQLite: one process
    page.goto(f"{url}/billing/run/?practice={cast.security.pk}&month=2026-11&workers=2")
    page.get_by_role("button", name="Approve the 2 drafts").click()
    expect(page.locator("p.flash")).to_contain_text("numbered INV-000001 to INV-000002")
    assert not Invoice.objects.filter(state="draft").exists()
