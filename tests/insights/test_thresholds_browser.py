"""In a real chromium: the practice admin sets the thresholds on their page (a value out of
bounds refused under its field, nothing saved; a valid one saved), on a desktop and a phone."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from thirdway.insights.models import InsightThresholds

SHOTS = Path(tempfile.gettempdir()) / "shots-thresholds"  # looked at after a run


def _shoot(page, name: str) -> None:
    from support.browser import DESKTOP, PHONE, fits

    SHOTS.mkdir(exist_ok=True)
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        assert fits(page), (name, label)
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_practice_admin_sets_thresholds_and_an_impossible_one_is_refused(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, cast.admin.get_username(), "/insights/reports/")
    page.get_by_role("link", name="Thresholds").click()
    expect(page.get_by_role("heading", name="Thresholds")).to_be_visible()
    device = page.get_by_label("Tickets on one device in a period that recommend replacing it.")
    expect(device).to_have_value("3")
    _shoot(page, "thresholds")

    device.fill("1")  # under the bounds
    page.get_by_role("button", name="Save the thresholds").click()
    expect(page.locator(".field.invalid .error")).to_have_count(1)
    expect(page.locator(".field.invalid")).to_contain_text("greater than or equal to 2")
    _shoot(page, "thresholds-refused")
    assert not InsightThresholds.objects.exists()

    page.get_by_label("Tickets on one device in a period that recommend replacing it.").fill("5")
    soon = page.get_by_label("An unacknowledged expiration this close recommends renewing it.")
    soon.fill("90")  # past the 60 days the report lists
    page.get_by_role("button", name="Save the thresholds").click()
    expect(page.locator(".field.invalid")).to_contain_text("at most the days listed as risks (60)")
    assert not InsightThresholds.objects.exists()

    page.get_by_label("Expirations this many days after the period are listed as risks.").fill(
        "120"
    )
    page.get_by_label("A report's average rating under this recommends a call").fill("4.2")
    page.get_by_role("button", name="Save the thresholds").click()
    expect(page.locator(".flash")).to_contain_text("Thresholds saved")
    _shoot(page, "thresholds-saved")
    saved = InsightThresholds.objects.get()
    assert (saved.repeat_asset_tickets, saved.expiry_soon_days, saved.expiry_horizon_days) == (
        5,
        90,
        120,
    )
    assert saved.csat_low_average == 4.2


@pytest.mark.browser
def test_anyone_but_the_practice_admin_finds_no_thresholds_page(cast, live_server, browser):
    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, cast.partner.get_username(), "/")
    response = page.goto(f"{live_server.url}/insights/thresholds/")
    assert response is not None and response.status == 404
