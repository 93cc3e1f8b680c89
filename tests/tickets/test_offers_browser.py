"""A partner answers work offered beyond their radius in a real chromium: a decline without a
reason is refused with nothing changed, then one offer is declined and another accepted;
screens at desktop and phone widths."""

from __future__ import annotations

import pytest

from support.screens import shoot
from thirdway.tickets.models import DispatchOffer, OfferState, Ticket

from .test_dispatch_offers import _offered, far  # noqa: F401 (far is a fixture)

pytestmark = pytest.mark.browser


def test_a_partner_declines_one_offer_and_accepts_another(far, live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    first_ticket, first = _offered(far)
    second_ticket, second = _offered(far)

    # The desk sees the ticket awaiting acceptance, and why.
    desk = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(desk, live_server.url, "dean", f"/tickets/{first_ticket.number}/")
    pending = desk.locator("#ticket-offer")
    expect(pending).to_contain_text("Awaiting acceptance by Paula Partner")
    expect(pending).to_contain_text("stretched: radius")
    expect(pending).to_contain_text("site is 84 km away, serves 60 km")
    expect(pending.get_by_role("button", name="Accept")).to_have_count(0)
    shoot(desk, "offer-desk-ticket", tmp_path)

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/tickets/offers/")
    card = page.locator(f"#offer-{first.pk}")
    expect(card).to_contain_text("stretched: radius")
    expect(card).to_contain_text("nobody within their limits can respond before")
    shoot(page, "offers-awaiting", tmp_path)

    # Declining needs a reason: refused, nothing changed.
    card.get_by_role("button", name="Decline").click()
    refused = page.locator(f"#offer-{first.pk} .flash.error")
    expect(refused).to_contain_text("Say why you decline")
    assert DispatchOffer.objects.get(pk=first.pk).state == OfferState.OPEN
    shoot(page, "offers-decline-refused", tmp_path)

    card = page.locator(f"#offer-{first.pk}")
    card.get_by_label("Reason for declining").fill("On another site until 04:00")
    card.get_by_role("button", name="Decline").click()
    expect(page.get_by_text(f"Declined {first_ticket.number}")).to_be_visible()
    expect(page.locator(f"#offer-{first.pk}")).to_have_count(0)
    assert DispatchOffer.objects.get(pk=first.pk).state == OfferState.DECLINED

    page.locator(f"#offer-{second.pk}").get_by_role("button", name="Accept").click()
    expect(page.get_by_text(f"{second_ticket.number} is yours.")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/tickets/{second_ticket.number}/")
    assert Ticket.objects.get(pk=second_ticket.pk).assignee == far.partner_record
    assert DispatchOffer.objects.get(pk=second.pk).state == OfferState.ACCEPTED
    shoot(page, "offer-accepted-ticket", tmp_path)
