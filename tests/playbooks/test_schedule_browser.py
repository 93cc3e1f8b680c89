"""The schedule form in a real browser: a site of another of the partner's clients is refused
beside the field, then a schedule for a site and asset that moves off holidays is saved; the page
fits a desktop and a phone (screenshots kept under PLAYBOOK_SHOTS when it is set)."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.playbooks.models import Schedule


@pytest.mark.browser
def test_a_partner_schedules_maintenance_of_an_asset_that_moves_off_holidays(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    bistro = clients.create_client(
        cast.admin,
        name="Bistro",
        lead_partner=cast.acme.lead_partner,
        time_zone="Europe/Paris",
        country="FR",
        source=Source.CLI,
    )
    kitchen = clients.create_site(cast.admin, bistro, name="Kitchen", source=Source.CLI)
    url = live_server.url
    shots = os.environ.get("PLAYBOOK_SHOTS")
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", "/playbooks/schedules/")
    page.get_by_label("Client").select_option(label=cast.acme.name)
    page.get_by_label("Name").fill("Server patching")
    page.get_by_label("Rule").fill("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=8;BYMINUTE=0")
    page.get_by_label("Starts").fill("2026-01-05T08:00")
    page.get_by_label("Site").select_option(label=str(kitchen))
    page.get_by_label("Asset").select_option(label=str(cast.acme_server))
    page.get_by_label("On a holiday or closed day").select_option("move")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator(".field.invalid .error")).to_contain_text(
        "This site is not one of Acme Bakery"
    )
    assert not Schedule.objects.exists()
    if shots:
        page.screenshot(path=f"{shots}/schedule-refused-desktop.png", full_page=True)
    page.get_by_label("Site").select_option(label=str(cast.acme_site))
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("link", name="Server patching")).to_be_visible()
    schedule = Schedule.objects.get()
    assert (schedule.site, schedule.asset, schedule.on_holiday) == (
        cast.acme_site,
        cast.acme_server,
        "move",
    )
    assert fits(page)
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/playbooks/schedules/{schedule.pk}/")
    expect(page.get_by_label("On a holiday or closed day")).to_have_value("move")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/schedule-phone.png", full_page=True)
