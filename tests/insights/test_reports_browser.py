"""In a real chromium: the lead partner previews October's report, sees a wrong month refused,
releases it, and the client's admin reads it in the portal; desktop and phone screenshots."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from thirdway.audit.models import Source
from thirdway.insights import services
from thirdway.insights.models import ClientReport
from thirdway.mail.models import OutboundMessage

from .reports_data import build_october

SHOTS = Path(tempfile.gettempdir()) / "shots-reports"  # looked at after a run


def _shoot(page, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    SHOTS.mkdir(exist_ok=True)
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        assert fits(page), (name, label)
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_lead_partner_previews_and_releases_and_the_client_admin_reads_it(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    build_october(cast)
    services.set_report_schedule(cast.admin, cast.acme, "monthly", source=Source.CLI)
    paula = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(paula, live_server.url, "paula", "/insights/reports/")
    paula.get_by_label("Client").select_option(label="Acme Bakery")
    paula.get_by_label("Month (a quarter: any month of it)").fill("2099-01")
    paula.get_by_role("button", name="Make the draft").click()
    expect(paula.locator("#make-report .error")).to_contain_text("has not ended")
    _shoot(paula, "make-refused")
    paula.get_by_label("Month (a quarter: any month of it)").fill("2026-10")
    paula.get_by_role("button", name="Make the draft").click()
    expect(paula.get_by_role("heading", name="Acme Bakery: October 2026")).to_be_visible()
    expect(paula.locator('[data-rule="asset_tickets"]')).to_contain_text(
        "Replace or review ACME-SRV1: 3 tickets"
    )
    evidence = paula.locator('[data-rule="asset_tickets"] .evidence a')
    expect(evidence).to_have_count(4)  # the device (its client's page) and its three tickets
    expect(evidence.first).to_have_attribute("href", f"/clients/{cast.acme.pk}/")
    expect(paula.locator('[data-clock="resolution"] .under-target')).to_have_text("50%")
    _shoot(paula, "preview")
    paula.get_by_role("button", name="Release to the client").click()
    expect(paula.locator(".flash")).to_contain_text("1 client admin will get the link")
    expect(paula.locator("#report")).to_have_attribute("data-status", "released")
    report = ClientReport.objects.get()
    assert OutboundMessage.objects.filter(dedupe_key__startswith="client-report:").count() == 1
    paula.goto(f"{live_server.url}/insights/reports/schedules/")
    expect(paula.locator(f'tr[data-client="{cast.acme.pk}"] select')).to_have_value("monthly")
    _shoot(paula, "schedules")

    alice = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(alice, live_server.url, cast.client_admin.get_username(), "/portal/")
    alice.get_by_role("link", name="Reports").click()
    alice.get_by_role("link", name="October 2026").click()
    expect(alice.locator("#recommendations .recommendation")).to_have_count(7)
    expect(alice.get_by_role("button", name="Release to the client")).to_have_count(0)
    evidence = alice.locator('[data-rule="asset_tickets"] .evidence a')
    expect(evidence).to_have_count(3)  # the device is named, not linked: no page for it here
    first_ticket = evidence.first
    expect(first_ticket).to_have_attribute(
        "href", f"/portal/tickets/{report.figures['recurring'][0]['tickets'][0]['id']}/"
    )
    _shoot(alice, "portal-report")
    href = alice.locator("#report-pdf").get_attribute("href")
    pdf = alice.request.get(f"{live_server.url}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    (SHOTS / "portal-report.pdf").write_bytes(pdf.body())
