"""Take my next ticket in a real chromium: the partner takes the overdue ticket another holds,
lands on it, and a second press says there is nothing to take; desktop and phone screens."""

from __future__ import annotations

import pytest

from support.screens import shoot
from thirdway.tickets.models import Ticket

from .test_next_ticket import desk  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_a_partner_takes_the_most_urgent_next_ticket(desk, live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/tickets/?queue=mine")
    button = page.get_by_role("button", name="Take my next ticket")
    expect(button).to_be_visible()
    shoot(page, "take-next-queue", tmp_path)

    button.click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{desk.overdue.number}/")
    expect(page.get_by_text(f"{desk.overdue.number} is yours.")).to_be_visible()
    expect(page.get_by_text("Taken as the most urgent next").first).to_be_visible()
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.partner_record
    shoot(page, "take-next-taken", tmp_path)

    page.goto(f"{live_server.url}/tickets/?queue=mine")
    page.get_by_role("button", name="Take my next ticket").click()
    expect(page.get_by_text("Nothing to take")).to_be_visible()
    assert Ticket.objects.get(pk=desk.alien.pk).assignee is None
    shoot(page, "take-next-nothing", tmp_path)
