"""A partner's succession in a real browser: a plan without a successor for a client is refused
beside the form (nothing written), the preview lists what moves, the plan is kept, applied and
its record shown; the pages at desktop and phone size."""

from __future__ import annotations

import os
import zoneinfo

import pytest
from django.utils import timezone

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.billing.succession_models import Succession, SuccessionMove
from thirdway.network import services as network

SHOTS_DIRECTORY = "THIRDWAY_SHOTS"


def shoot(page, shots: str, name: str) -> None:
    page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    assert fits(page), name
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_admin_plans_previews_and_applies_a_succession(
    cast, books, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)
    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/billing/successions/")
    page.locator("select[name=leaver]").select_option(label="Paula Partner")
    page.get_by_role("button", name="Plan a succession").click()

    # Today where the admin is: the form checks the date in the signed-in person's zone.
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(cast.admin.time_zone))
    page.locator("input[name=effective_on]").fill(today.isoformat())
    page.locator("select[name=successor]").select_option(label="Oscar Other")
    page.get_by_role("button", name="Preview").click()
    invalid = page.locator(".field.invalid", has_text="Successor for Acme Bakery")
    expect(invalid).to_contain_text("Acme Bakery has no successor")
    shoot(page, shots, "succession-invalid")
    assert not Succession.objects.exists()

    page.locator(f"select[name=client_{cast.acme.pk}]").select_option(label="Oscar Other")
    page.get_by_role("button", name="Preview").click()
    moves = page.locator("#succession-preview-moves")
    expect(moves).to_contain_text("Acme Bakery")
    expect(moves).to_contain_text("Acme managed (Acme Bakery)")
    shoot(page, shots, "succession-preview")
    assert not Succession.objects.exists()

    page.get_by_role("button", name="Keep the plan").click()
    expect(page.locator("#succession-state")).to_contain_text("Planned")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#succession-state")).to_contain_text("Applied")
    expect(page.locator("#succession-record")).to_contain_text("Lead partner")
    shoot(page, shots, "succession-record")
    assert SuccessionMove.objects.count() == 3
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == cast.other_partner_record
