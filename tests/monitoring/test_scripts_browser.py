"""The script library in a real browser, on a desktop and a phone."""

from __future__ import annotations

import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.monitoring.models import Script

# Set THIRDWAY_SCREENSHOTS to a directory to keep what the browser saw.
SHOTS = os.environ.get("THIRDWAY_SCREENSHOTS", "")


@pytest.mark.browser
def test_an_admin_keeps_a_script_and_a_body_over_the_limit_is_refused(cast, live_server, browser):
    from playwright.sync_api import expect

    for screen, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=size).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_server.url, "admin", "/monitoring/scripts/")
        expect(page.locator("h1")).to_have_text("Script library")
        name = f"Backup age {screen}"
        page.locator("#id_name").fill(name)
        page.locator("#id_body").fill("x" * (65 * 1024))
        page.get_by_role("button", name="Save the script").click()
        expect(page.get_by_role("alert")).to_contain_text("64")
        assert not Script.objects.filter(name=name).exists()
        # What was typed is kept beside the refusal; a body within the limit is saved.
        expect(page.locator("#id_name")).to_have_value(name)
        page.locator("#id_body").fill("#!/bin/sh\necho OK - backup is 3 hours old\nexit 0\n")
        page.get_by_role("button", name="Save the script").click()
        expect(page.get_by_text(f"{name} saved as version 1.")).to_be_visible()
        script = Script.objects.get(name=name)
        assert script.current.number == 1
        assert fits(page), screen
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/script-{screen}.png", full_page=True)
        page.context.close()
