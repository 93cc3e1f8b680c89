"""Surge in the browser: a practice admin turns it on in Settings → Dispatch (a ratio out of
bounds refused, naming the field, nothing written), and the desk's surge page shows the skill
in surge and the ticket held, which the ticket's page marks too."""

from __future__ import annotations

import pytest

from thirdway.network.models import Partner, Practice
from thirdway.tickets.assignment import dispatching, surge, switches

from .test_dispatching import ALWAYS
from .test_incidents import _open

pytestmark = pytest.mark.browser
SETTINGS = "/settings/dispatch/{}/"


def test_an_admin_turns_surge_on_in_the_dispatch_settings(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in
    from support.screens import shoot

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", SETTINGS.format(cast.security.pk))
    page.get_by_label("Hold routine work in a surge").check()
    page.get_by_label("Surge ratio").fill("12")
    # the browser's own check would stop the form: as a forged request, past it
    page.locator("form.form").evaluate("f => f.noValidate = true")
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    wrong = page.locator(".field.invalid", has=page.locator("input[name=surge_ratio]"))
    expect(wrong.locator(".error")).to_contain_text("less than or equal to 10")
    assert switches.switches_of(cast.security.pk)["surge"] is False
    shoot(page, "surge-settings-invalid", tmp_path)

    page.get_by_label("Surge ratio").fill("1.5")
    page.get_by_label("Hold P3 work too in a surge").check()
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    expect(page.get_by_text("Dispatch of Security saved.")).to_be_visible()
    row = page.locator("#dispatch tr", has_text="Security")
    expect(row).to_contain_text("Holds P4 and P3 (ratio 1.5)")
    found = switches.switches_of(cast.security.pk)
    assert (found["surge"], found["surge_ratio"], found["surge_defers_p3"]) == (True, 1.5, True)
    shoot(page, "surge-settings-saved", tmp_path)
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_label("Surge ratio")).to_have_value("1.5")
    shoot(page, "surge-settings-form", tmp_path)


def test_the_desk_sees_the_surge_and_the_held_ticket(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in
    from support.screens import shoot

    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    switches.set_switches(
        cast.admin, cast.security, {"surge": True, "surge_ratio": 1.0}, source="web"
    )
    for n in range(2):
        _open(cast, subject=f"Alarm panel {n} offline")
    held = _open(cast, priority=4, subject="New keyboard for reception")
    dispatching.dispatch_on_arrival(held.pk)
    assert surge.open_hold(held.pk) is not None

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "dean", "/tickets/surge/")
    expect(page.locator("#surging")).to_contain_text("Security: 2 not started, 1 partner at work")
    row = page.locator("#held tr", has_text=held.number)
    expect(row).to_contain_text("New keyboard for reception")
    expect(row).to_contain_text("P4")
    shoot(page, "surge-panel", tmp_path)
    row.get_by_role("link", name=held.number).click()
    expect(page.locator("#ticket-held")).to_contain_text("held: surge on Security")
    shoot(page, "surge-ticket-held", tmp_path)
