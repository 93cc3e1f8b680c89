"""Exports in a real browser: the practice admin asks for a batch without a month (the error
beside the field, nothing made), previews the month, makes a DATEV batch and undoes it."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.billing.models import ExportBatch

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


@pytest.mark.browser
def test_the_admin_makes_and_undoes_an_export_batch(cast, invoices, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    month = f"{invoices.globex.issued_on:%Y-%m}"
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/exports/")
    expect(page.locator("h1")).to_have_text("Accounting exports")

    form = page.locator("#export-form")
    form.locator("select[name=practice]").select_option(label="Security")
    form.locator("select[name=format]").select_option("datev")
    page.locator("#export-make").click()
    expect(page.locator(".field.invalid", has_text="Month")).to_contain_text("YYYY-MM")
    page.screenshot(path=f"{shots}/exports-invalid-desktop.png", full_page=True)
    assert ExportBatch.objects.count() == 0

    page.locator("#export-form input[name=month]").fill(month)
    page.locator("#export-preview").click()
    expect(page.locator("#export-pending")).to_contain_text("2 invoice(s) to export")
    page.locator("#export-make").click()
    expect(page.locator("#export-batches")).to_contain_text("DATEV")
    expect(page.locator("#export-pending")).to_contain_text("0 invoice(s) to export")
    page.screenshot(path=f"{shots}/exports-made-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/exports-made-phone.png", full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)

    page.locator("#export-batches").get_by_role("button", name="Undo").click()
    expect(page.locator("#export-batches")).to_contain_text("undone")
    assert ExportBatch.objects.get().undone_at is not None
