"""Settings → Dispatch: what happens when a partner comes free, chosen per practice by a
practice admin; a value that is not a choice is refused naming the field, nothing written."""

from __future__ import annotations

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.tickets.assignment import switches

URL = "/settings/dispatch/{}/"


def _post(client, cast, when_free: str):
    return client.post(
        URL.format(cast.security.pk), {"when_free": when_free, "offer_timeout_minutes": "15"}
    )


def test_an_admin_chooses_to_take_the_next_ticket_for_partners(cast, web_as):
    client = web_as(cast.admin)
    page = client.get(URL.format(cast.security.pk))
    assert b"When a partner comes free" in page.content
    answer = _post(client, cast, "take")
    assert answer.status_code == 302, answer.content
    assert switches.switches_of(cast.security.pk)["when_free"] == "take"
    assert switches.switches_of(cast.networking.pk)["when_free"] == "nothing"
    audit = AuditRecord.objects.get(action="dispatch.switches")
    assert audit.changes == {"when_free": ["nothing", "take"]} and audit.source == "web"
    listed = client.get("/settings/dispatch/")
    assert b"Next ticket taken for them" in listed.content


def test_a_value_that_is_no_choice_is_refused_and_nothing_is_written(cast, web_as):
    client = web_as(cast.admin)
    before = AuditRecord.objects.count()
    answer = _post(client, cast, "sometimes")
    assert answer.status_code == 200
    assert b"Select a valid choice" in answer.content
    assert switches.switches_of(cast.security.pk)["when_free"] == "nothing"
    assert AuditRecord.objects.count() == before


def test_left_out_it_is_kept(cast, web_as):
    switches.set_switches(cast.admin, cast.security, {"when_free": "offer"}, source="cli")
    answer = web_as(cast.admin).post(URL.format(cast.security.pk), {"preempt": "on"})
    assert answer.status_code == 302
    assert switches.switches_of(cast.security.pk) == {
        "preempt": True,
        "link_incidents": False,
        "when_free": "offer",
        "surge": False,
        "surge_ratio": 2.0,
        "surge_defers_p3": False,
    }


@pytest.mark.browser
def test_an_admin_sets_when_a_partner_comes_free_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in
    from support.screens import shoot

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", URL.format(cast.security.pk))
    field = page.get_by_label("When a partner comes free")
    expect(field).to_have_value("nothing")
    # a value the form does not offer (as a forged request would send)
    field.evaluate("s => { s.add(new Option('Sometimes', 'sometimes')); s.value = 'sometimes'; }")
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    wrong = page.locator(".field.invalid", has=page.locator("select[name=when_free]"))
    expect(wrong.locator(".error")).to_contain_text("Select a valid choice")
    assert switches.switches_of(cast.security.pk)["when_free"] == "nothing"
    shoot(page, "when-free-invalid", tmp_path)

    page.get_by_label("When a partner comes free").select_option("offer")
    page.locator("form.form").get_by_role("button", name="Save dispatch").click()
    expect(page.get_by_text("Dispatch of Security saved.")).to_be_visible()
    row = page.locator("#dispatch tr", has_text="Security")
    expect(row).to_contain_text("Next ticket offered")
    assert switches.switches_of(cast.security.pk)["when_free"] == "offer"
    shoot(page, "when-free-saved", tmp_path)
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_label("When a partner comes free")).to_have_value("offer")
    shoot(page, "when-free-form", tmp_path)
