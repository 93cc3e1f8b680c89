"""The alert list and an alert's page in a real browser, on a desktop and a phone: filtered,
refused, opened."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.monitoring.engine import Status

from .test_alerting import add
from .test_incidents import result

# Set THIRDWAY_SCREENSHOTS to a directory to keep what the browser saw.
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")
MINUTE = dt.timedelta(minutes=1)


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
def test_the_desk_filters_the_alerts_and_opens_one(cast, live_server, browser):
    from playwright.sync_api import expect

    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    mail = add(cast, name="Mail server", site_id=cast.acme_site.pk)
    shop = add(cast, name="Web shop", target="shop.acme.example", asset_id=cast.acme_server.pk)
    result(mail, Status.CRITICAL, t0, output="No connection within 10 s.")
    result(shop, Status.CRITICAL, t0 + MINUTE, output="HTTP 502, expected 200.")
    result(shop, Status.OK, t0 + 20 * MINUTE, output="HTTP 200.")

    url = live_server.url
    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, url, "dean", "/monitoring/")
        page.locator(".monitoring-nav").get_by_role("link", name="Alerts").click()
        expect(page.locator("h1")).to_have_text("Alerts")
        rows = page.locator("#alerts tbody tr")
        expect(rows).to_have_count(2)
        assert fits(page), screen
        _shot(page, f"monitoring-alerts-{screen}")

        page.locator("select[name=status]").select_option("resolved")
        page.get_by_role("button", name="Show").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Web shop")
        expect(rows.first).to_contain_text("Resolved")

        page.goto(f"{url}/monitoring/alerts/?status=closed")
        expect(page.locator("#filter-errors")).to_contain_text(
            "Status: Choose open, resolved or nothing (both)."
        )
        expect(page.locator("#alerts")).to_contain_text("correct the filters above")
        assert fits(page), screen
        _shot(page, f"monitoring-alerts-invalid-{screen}")

        page.locator("input[name=q]").fill("mail")
        page.locator("select[name=status]").select_option("open")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#filter-errors")).to_have_count(0)
        expect(rows).to_have_count(1)
        rows.first.get_by_role("link", name="Mail server").click()
        expect(page.locator("h1")).to_contain_text("Mail server")
        expect(page.locator("#alert-facts")).to_contain_text("Bakery")
        expect(page.locator("#alert-timeline")).to_contain_text("Alert opened")
        assert fits(page), screen
        _shot(page, f"monitoring-alert-{screen}")

        page.get_by_role("link", name="All alerts of this check").click()
        expect(page.locator("h1")).to_have_text("Alerts · Mail server")
        expect(rows).to_have_count(1)
        page.context.close()
