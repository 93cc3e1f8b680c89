"""An offered next ticket in a real chromium: the partner's notification says which ticket is
theirs to take next, and its Take it button takes it in one click; desktop and phone."""

from __future__ import annotations

import pytest
from django.utils import timezone

from support.screens import shoot
from thirdway.audit.models import Source
from thirdway.tickets.assignment import coming_free, switches
from thirdway.tickets.models import Ticket

from . import test_next_ticket as taking

pytestmark = pytest.mark.browser
desk = taking.desk  # the fixture: Paula, Sam's overdue P2, Globex's P1 Paula does not serve


def test_the_offered_next_ticket_is_taken_from_the_notification(
    desk, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    switches.set_switches(desk.admin, desk.security, {"when_free": "offer"}, source=Source.CLI)
    claim = coming_free.came_free(desk.partner_record.pk, "shift", "test", now=timezone.now())
    assert claim is not None and claim.ticket_id == desk.overdue.pk
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/notifications/")
    notice = page.locator(".notification[data-kind=next_ticket]")
    expect(notice).to_contain_text(f"Your next ticket: {desk.overdue.number}")
    expect(notice).to_contain_text("you started a shift")
    shoot(page, "coming-free-offered", tmp_path)
    notice.get_by_role("button", name="Take it").click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{desk.overdue.number}/")
    expect(page.get_by_text(f"{desk.overdue.number} is yours.")).to_be_visible()
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.partner_record
