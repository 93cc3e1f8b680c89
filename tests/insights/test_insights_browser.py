"""In a real chromium: a client rates a resolved ticket from the portal, and its lead partner
sees the rating on the metrics page; both pages on a desktop and a phone screen."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from thirdway.insights import snapshots

from .test_csat import resolved_ticket

SHOTS = Path(tempfile.gettempdir()) / "insights-shots"  # looked at after a run


def _shoot(page, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    SHOTS.mkdir(exist_ok=True)
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        assert fits(page), (name, label)


@pytest.mark.browser
def test_a_client_rates_a_resolved_ticket_and_the_partner_sees_it_on_the_metrics_page(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    ticket = resolved_ticket(cast)
    bob = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(bob, live_server.url, cast.client_user.get_username(), f"/portal/tickets/{ticket.pk}/")
    bob.get_by_role("link", name="Rate this ticket").click()
    expect(bob.get_by_role("heading", name="How did we do?")).to_be_visible()
    _shoot(bob, "rate")
    bob.get_by_label("Anything to add?").fill("Quick and friendly.")
    bob.get_by_role("button", name="Good").click()
    expect(bob.locator("#rated")).to_contain_text("Good")

    snapshots.take(timezone.now().date())
    paula = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(paula, live_server.url, "paula", f"/insights/metrics/?subject=client:{cast.acme.pk}")
    expect(paula.locator('[data-figure="csat"]')).to_contain_text("5")
    expect(paula.locator("#csat-client")).to_contain_text("Acme Bakery")
    expect(paula.locator("#trend svg polyline")).to_have_count(3)
    _shoot(paula, "metrics")
    paula.get_by_role("link", name="My scorecard").click()
    expect(paula.locator('#scorecard tr[data-figure="csat_average"]')).to_contain_text("5")
    _shoot(paula, "scorecard")
