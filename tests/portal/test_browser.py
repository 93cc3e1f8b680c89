"""One real browser run: a client contact opens a ticket in the portal on a phone-sized screen,
a partner answers it from the desk, and the contact sees the answer after a reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connections
from django.urls import Resolver404, resolve

from thirdway.audit.models import Source
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Ticket

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-staple"
PHONE = {"width": 360, "height": 740}
LINK = re.compile(r"https?://[^/\s]+(/portal/login/link/[A-Za-z0-9_-]+/)")


def _desk_ui_exists() -> bool:
    try:
        resolve("/tickets/")
    except Resolver404:
        return False
    return True


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_a_contact_opens_a_ticket_a_partner_answers_and_the_contact_sees_the_answer(
    cast, live_server, mailoutbox, monkeypatch, tmp_path
):
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium to run this test")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # a busy CI machine is slower than a laptop

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    url = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            contact = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            phone = contact.new_page()
            phone.set_default_timeout(20_000)

            # Bob asks for a sign-in link by e-mail and follows it.
            phone.goto(f"{url}/portal/")
            expect(phone).to_have_url(re.compile(r"/portal/login/\?next="))
            assert _fits_the_screen(phone)
            phone.screenshot(path=str(tmp_path / "login.png"), full_page=True)
            phone.locator("#link-sign-in input[name=email]").fill("bob@acme.example")
            phone.locator("#link-sign-in button[type=submit]").click()
            expect(phone.locator("#link-sent")).to_be_visible()
            assert len(mailoutbox) == 1
            path = LINK.search(mailoutbox[0].body).group(1)
            phone.goto(f"{url}{path}")
            phone.get_by_role("button", name="Sign in").click()
            expect(phone).to_have_url(f"{url}/portal/")
            assert _fits_the_screen(phone)

            # He opens a ticket about his laptop.
            phone.get_by_role("link", name="New ticket").click()
            assert _fits_the_screen(phone)
            phone.screenshot(path=str(tmp_path / "new.png"), full_page=True)
            phone.get_by_label("Subject").fill("Wi-Fi drops every few minutes")
            phone.get_by_label("Description").fill("Since the update on Monday.")
            phone.get_by_label("Device or service").select_option(label="BOB-LAPTOP")
            phone.get_by_role("button", name="Open the ticket").click()
            expect(phone.locator("#subject")).to_have_text("Wi-Fi drops every few minutes")
            assert _fits_the_screen(phone)
            ticket = Ticket.objects.get(subject="Wi-Fi drops every few minutes")
            assert ticket.requester == cast.acme_user_contact
            assert ticket.asset == cast.acme_laptop

            # Paula, who leads Acme, answers it.
            answer = "Please forget the network and join it again; tell us if it helps."
            if _desk_ui_exists():
                desk = browser.new_context(viewport={"width": 1280, "height": 900})
                partner = desk.new_page()
                partner.set_default_timeout(20_000)
                partner.goto(f"{url}/accounts/login/?next=/tickets/%3Fqueue%3Dall")
                partner.locator("input[name=username]").fill("paula")
                partner.locator("input[name=password]").fill(PASSWORD)
                partner.get_by_role("button", name="Sign in").click()
                expect(partner).to_have_url(re.compile(r"/tickets/"))
                partner.locator("a.subject", has_text="Wi-Fi drops every few minutes").click()
                partner.locator("#reply-body").fill(answer)
                partner.locator("#reply-form button[type=submit]").click()
                expect(partner.get_by_text(answer)).to_be_visible()
                desk.close()
            else:
                # The desk's pages are not there yet: the partner answers through the service.
                tickets.reply(cast.partner, ticket, body_text=answer, source=Source.WEB)
            assert ticket.articles.filter(author=cast.partner, body_text=answer).exists()

            # Bob reloads and reads the answer.
            phone.reload()
            expect(phone.locator("#timeline")).to_contain_text(answer)
            expect(phone.locator("#timeline")).to_contain_text("Paula Partner")
            assert _fits_the_screen(phone)
            phone.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)
            phone.get_by_role("link", name="My tickets", exact=True).click()
            expect(phone.locator("#tickets")).to_contain_text("Wi-Fi drops every few minutes")
            assert _fits_the_screen(phone)
            phone.screenshot(path=str(tmp_path / "list.png"), full_page=True)
        finally:
            browser.close()
            # Playwright runs this block in a context of its own, where the ORM opened a
            # connection of its own: closed here, or the test database could not be dropped.
            connections.close_all()
