"""In a real chromium: a client contact answers the recommendation question from the portal's
card (a forged score refused, a real one taken), and a partner reads one category of a client
on the metrics page; each page on a desktop and a phone screen."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.insights import nps, snapshots
from thirdway.insights.models import NpsSurvey
from thirdway.tickets import services
from thirdway.tickets.models import Ticket

SHOTS = Path(tempfile.gettempdir()) / "shots-insightsmore"  # looked at after a run


def _shoot(page, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    SHOTS.mkdir(exist_ok=True)
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        assert fits(page), (name, label)
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_a_contact_answers_from_the_portal_card_and_a_forged_score_is_refused(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    nps.set_policy(
        cast.admin, enabled=True, day_of_quarter=1, follow_up_detractors=False, source=Source.CLI
    )
    bob = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(bob, live_server.url, cast.client_user.get_username(), "/portal/")
    expect(bob.locator("#nps-card")).to_be_visible()
    _shoot(bob, "portal-card")
    bob.get_by_role("link", name="Answer (0 to 10)").click()
    expect(bob.get_by_role("heading", name="Would you recommend us?")).to_be_visible()
    _shoot(bob, "nps-form")
    # a score the buttons do not offer, as a tampered page would send it
    bob.locator('button[data-score="10"]').evaluate("b => b.value = '11'")
    bob.locator('button[data-score="10"]').click()
    expect(bob.locator(".error")).to_be_visible()
    _shoot(bob, "nps-refused")
    assert NpsSurvey.objects.get().score is None
    bob.get_by_label("What is the main reason").fill("Always there when the till breaks.")
    bob.locator('button[data-score="9"]').click()
    expect(bob.locator("#answered")).to_contain_text("9 out of 10")
    _shoot(bob, "nps-thanks")
    assert NpsSurvey.objects.get().score == 9
    bob.goto(live_server.url + "/portal/")
    expect(bob.locator("#nps-card")).to_have_count(0)


@pytest.mark.browser
def test_a_partner_reads_one_category_of_a_client_on_the_metrics_page(cast, live_server, browser):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    for subject, category in (("Toner", "Printing"), ("Jam", "Printing"), ("Inbox", "Email")):
        ticket = services.create_ticket(
            cast.admin, cast.acme, subject=subject, body_text=subject, source=Source.CLI
        )
        Ticket.objects.filter(pk=ticket.pk).update(category=category)
    snapshots.take(timezone.now().astimezone(dt.UTC).date())
    paula = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(paula, live_server.url, "paula", f"/insights/metrics/?subject=client:{cast.acme.pk}")
    expect(paula.locator('[data-figure="opened"]')).to_have_text("3")
    paula.locator("#category").select_option("Printing")
    paula.get_by_role("button", name="Show").click()
    expect(paula.locator("#category-shown")).to_contain_text("Printing")
    expect(paula.locator('[data-figure="opened"]')).to_have_text("2")
    _shoot(paula, "metrics-category")
