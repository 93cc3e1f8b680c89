"""Downloading an invoice's documents in a real browser: from the invoice page (a practice
admin) and from the portal (the client's admin), and the page a draft's download gets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from facturx import get_xml_from_pdf
from lxml import etree

from support.browser import DESKTOP, PASSWORD, PHONE, fits, sign_in

from .documents import approve, drafts, seller_settings

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


def download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as started:
        link.click()
    made = started.value
    return made.suggested_filename, Path(made.path()).read_bytes()


@pytest.mark.browser
def test_the_admin_downloads_from_the_invoice_page_and_a_draft_says_why_it_has_none(
    cast, books, book_time, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    seller_settings(cast)
    acme, globex = drafts(cast, books, book_time)
    acme = approve(cast, acme)
    url = live_server.url
    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    sign_in(page, url, "admin", f"/billing/invoices/{acme.pk}/")
    downloads = page.locator("#invoice-downloads")
    expect(downloads).to_contain_text("Factur-X PDF")
    page.screenshot(path=f"{shots}/invoice-downloads-desktop.png", full_page=True)

    name, pdf = download(page, downloads.get_by_role("link", name="PDF", exact=True))
    assert (name, pdf[:5]) == (f"{acme.number}.pdf", b"%PDF-")
    name, xml = download(page, downloads.get_by_role("link", name="UBL XML"))
    assert name == f"{acme.number}-ubl.xml"
    assert etree.fromstring(xml).tag.endswith("}Invoice")

    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/invoice-downloads-phone.png", full_page=True)
    assert fits(page)

    page.set_viewport_size(DESKTOP)
    page.goto(f"{url}/billing/invoices/{globex.pk}/")
    expect(page.locator("#invoice-downloads")).to_contain_text("A draft has no number yet")
    answer = page.goto(f"{url}/billing/invoices/{globex.pk}/documents/pdf/")
    assert answer is not None and answer.status == 409
    expect(page.locator("#document-refused")).to_contain_text("approve it first")
    page.screenshot(path=f"{shots}/invoice-draft-refused-desktop.png", full_page=True)


@pytest.mark.browser
def test_the_client_admin_downloads_their_invoices_in_the_portal(
    cast, invoices, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    url = live_server.url
    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    page.goto(f"{url}/portal/login/?next=/portal/")
    form = page.locator("#password-sign-in")
    form.locator("input[name=email]").fill("alice@acme.example")
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Invoices of Acme Bakery").click()
    rows = page.locator("#portal-invoices")
    expect(rows).to_contain_text(invoices.acme.number)
    expect(rows).not_to_contain_text(invoices.globex.number)
    page.screenshot(path=f"{shots}/portal-invoices-desktop.png", full_page=True)

    row = rows.locator(f"#invoice-{invoices.acme.pk}")
    name, made = download(page, row.get_by_role("link", name="Factur-X"))
    assert name == f"{invoices.acme.number}-factur-x.pdf"
    embedded, xml = get_xml_from_pdf(made, check_xsd=True)
    assert embedded == "factur-x.xml" and invoices.acme.number.encode() in xml

    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/portal-invoices-phone.png", full_page=True)
    assert fits(page)
    other = page.goto(f"{url}/portal/invoices/{invoices.globex.pk}/pdf/")
    assert other is not None and other.status == 404
