"""Work offered to a partner beyond their limits reaches them: a notification in the app and,
through the outbox, an e-mail to a real SMTP server (aiosmtpd) with where to accept or
decline it."""

from __future__ import annotations

import pytest

from support.far_site import depot_beyond_radius
from thirdway.audit.models import Source
from thirdway.mail.models import OutboundStatus
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.models import DispatchOffer, Notification, NotificationKind, Ticket
from thirdway.tickets.notifications import services as notifications

from .test_notices import flush, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def far(cast):
    """Paula (the only Security partner, always at work) serves 60 km; Acme's depot is 84 km
    north of her home: a P1 there is offered to her beyond her radius."""
    return depot_beyond_radius(cast)


def _offer(cast) -> tuple[Ticket, DispatchOffer]:
    ticket = tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Server room flooded",
        body_text="Water under the rack.",
        practice_id=cast.security.pk,
        site_id=cast.depot.pk,
        needs_onsite=True,
        priority=1,
        priority_reason="The site is flooding.",
        source=Source.WEB,
    )
    dispatching.dispatch_on_arrival(ticket.pk)
    return Ticket.objects.get(pk=ticket.pk), DispatchOffer.objects.get(ticket=ticket)


def test_an_offer_is_mailed_to_its_partner_with_the_link_to_answer(far, smtp_server, settings):
    settings.SITE_URL = "https://desk.example"
    ticket, offer = _offer(far)
    told = Notification.objects.get(recipient=far.partner, kind=NotificationKind.OFFERED)
    assert told.ticket == ticket
    assert told.text == (
        f"Offered to you: {ticket.number} Server room flooded (P1), beyond your limits "
        "(radius: site is 84 km away, serves 60 km). Accept or decline within 15 min."
    )
    assert flush() == [OutboundStatus.SENT]
    [(to, message)] = received(smtp_server)
    assert to == ["paula@network.example"]
    assert message["Subject"] == f"[{ticket.number}] Work offered to me: Server room flooded"
    body = message.get_content()
    assert "Accept or decline it: https://desk.example/tickets/offers/" in body
    assert f"https://desk.example/tickets/{ticket.number}/" in body
    assert offer.partner == far.partner_record


def test_a_partner_who_wants_no_offers_by_mail_is_told_in_the_app_only(far, smtp_server):
    kinds = [k for k in NotificationKind.values if k != NotificationKind.OFFERED]
    notifications.save_preferences(far.partner, email_kinds=kinds, source="web")
    _offer(far)
    assert Notification.objects.filter(kind=NotificationKind.OFFERED).count() == 1
    assert flush() == []
    assert smtp_server.messages == []


def test_nobody_but_the_partner_offered_the_work_is_told(far, smtp_server):
    _offer(far)
    assert list(
        Notification.objects.filter(kind=NotificationKind.OFFERED).values_list(
            "recipient__username", flat=True
        )
    ) == ["paula"]
    assert (
        notifications.notify(
            far.other_partner, NotificationKind.OFFERED, Ticket.objects.get(), "Not yours."
        )
        is None
    )
