"""The bell, the list and the preferences in a real chromium, on a desktop and a phone."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from support.browser import DESKTOP, PHONE, fits, settled, sign_in
from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Notification, NotificationPreference

# Kept after the run, to be looked at.
SHOTS = Path(tempfile.gettempdir()) / "shots-notify"


def open_ticket(cast, subject, **extra):
    return services.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="It burns.",
        requester_id=cast.acme_user_contact.pk,
        practice_id=cast.security.pk,
        source=Source.WEB,
        **extra,
    )


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for label, size in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        assert fits(page), f"{name} sticks out sideways at {label}"
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_the_bell_counts_refreshes_and_leads_to_the_list(cast, live_server, browser):
    from playwright.sync_api import expect

    first = open_ticket(cast, "Printer on fire", assignee_id=cast.partner_record.pk)
    services.reply(cast.client_user, first, body_text="Still burning!", source=Source.WEB)
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.clock.install()
    sign_in(page, live_server.url, "paula", "/tickets/")
    expect(page).to_have_url(f"{live_server.url}/tickets/")
    bell = page.locator("#bell .bell")
    expect(bell).to_have_attribute("data-unread", "2")
    expect(page.locator("#bell .bell-count")).to_have_text("2")
    # Something new while the page stays open: the bell shows it within a minute.
    services.assign(cast.desk, open_ticket(cast, "Router down"), cast.partner_record, source="web")
    page.clock.run_for(61_000)
    expect(bell).to_have_attribute("data-unread", "3")
    settled(page)
    shoot(page, "queue-with-bell")

    bell.click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    items = page.locator(".notification")
    expect(items).to_have_count(3)
    expect(page.locator(".notification.unread")).to_have_count(3)
    expect(items.first).to_contain_text("Router down")
    expect(page.get_by_text("3 unread")).to_be_visible()
    shoot(page, "notifications")

    page.locator(".notification.unread").first.get_by_role("button", name="Mark read").click()
    expect(page.locator(".notification.unread")).to_have_count(2)
    expect(page.locator("#bell .bell")).to_have_attribute("data-unread", "2")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("2 notifications marked read.")).to_be_visible()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("#bell .bell")).to_have_attribute("data-unread", "0")
    assert not Notification.objects.filter(recipient=cast.partner, read_at__isnull=True).exists()

    page.locator(".notification").last.locator("a.notification-text").click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{first.number}/")


@pytest.mark.browser
def test_the_preferences_form_refuses_a_bad_address_and_saves_a_good_one(
    cast, live_server, browser
):
    from playwright.sync_api import expect

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/accounts/settings/")
    expect(page).to_have_url(f"{live_server.url}/accounts/settings/")
    shoot(page, "account")
    page.get_by_role("link", name="Choose what also comes by e-mail").click()
    expect(page).to_have_url(f"{live_server.url}/notifications/settings/")
    expect(page.get_by_label("Assigned to me")).to_be_checked()
    expect(page.get_by_label("Taken back from me")).not_to_be_checked()
    page.get_by_label("Assigned to me").uncheck()
    page.get_by_label("Send e-mail to").fill("pager at home")
    page.get_by_role("button", name="Save").click()
    error = page.locator(".field.invalid .error")
    expect(error).to_have_text(
        "'pager at home' is not an e-mail address. Allowed: an address such as "
        "you@example.com, or empty for your account's address."
    )
    expect(page.locator(".field.invalid input[name=email]")).to_have_value("pager at home")
    expect(page.get_by_label("Assigned to me")).not_to_be_checked()
    assert not NotificationPreference.objects.exists()
    shoot(page, "preferences-error")

    page.get_by_label("Send e-mail to").fill("pager@network.example")
    page.get_by_label("Taken back from me").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Notification preferences saved.")).to_be_visible()
    expect(page.get_by_label("Assigned to me")).not_to_be_checked()
    expect(page.get_by_label("Taken back from me")).to_be_checked()
    saved = NotificationPreference.objects.get(user=cast.partner)
    assert "assigned" not in saved.email_kinds and "taken_back" in saved.email_kinds
    assert saved.email == "pager@network.example"
    shoot(page, "preferences")
