"""Exports in a real browser: the practice admin asks for a batch without a month (the error
beside the field, nothing made), previews the month, makes a DATEV batch and undoes it."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.billing import exports
from thirdway.billing.models import ExportBatch

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


@pytest.mark.browser
def test_the_admin_makes_and_undoes_an_export_batch(cast, invoices, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    month = f"{invoices.globex.issued_on:%Y-%m}"
    for client, number in ((cast.acme, 10001), (cast.globex, 10002)):
        exports.set_debtor(cast.admin, cast.security, client, number, source=Source.CLI)
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


@pytest.mark.browser
def test_the_admin_gives_clients_their_debtor_accounts_before_a_datev_batch(
    cast, invoices, live_server, browser, tmp_path
):
    """Invalid: 5 and 70000 are refused beside the field, nothing saved.  Valid: Globex gets
    10002; a DATEV batch is then refused naming Acme, which has none; with Acme's 10001 it is
    made."""
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    month = f"{invoices.globex.issued_on:%Y-%m}"
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/exports/mapping/{cast.security.pk}/")
    form = page.locator("#debtor-form")
    for bad in ("5", "70000"):
        form.get_by_label("Client").select_option(label=cast.globex.name)
        form.get_by_label("Debtor account").fill(bad)
        form.get_by_role("button", name="Save the debtor account").click()
        expect(
            page.locator("#debtor-form .field.invalid", has_text="Debtor account")
        ).to_contain_text("outside the debtor accounts")
    page.screenshot(path=f"{shots}/debtor-invalid-desktop.png", full_page=True)
    assert not exports.debtors_of(cast.security)

    form.get_by_label("Debtor account").fill("10002")
    form.get_by_role("button", name="Save the debtor account").click()
    expect(page.locator("#debtors")).to_contain_text("10002")
    assert exports.debtors_of(cast.security) == {cast.globex.pk: 10002}
    page.screenshot(path=f"{shots}/debtor-saved-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/debtor-saved-phone.png", full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/billing/exports/")
    export = page.locator("#export-form")
    export.locator("select[name=practice]").select_option(label="Security")
    export.locator("select[name=format]").select_option("datev")
    export.locator("input[name=month]").fill(month)
    page.locator("#export-make").click()
    expect(page.get_by_text(f"No debtor account for {cast.acme.name}.")).to_be_visible()
    assert ExportBatch.objects.count() == 0
    exports.set_debtor(cast.admin, cast.security, cast.acme, 10001, source=Source.CLI)
    page.locator("#export-make").click()
    expect(page.locator("#export-batches")).to_contain_text("DATEV")
    assert ExportBatch.objects.count() == 1
