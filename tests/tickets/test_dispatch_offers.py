"""Work beyond a partner's radius or shift is offered, not imposed: they accept or decline it,
and an offer left unanswered lapses; every act is recorded and only the partner may answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from support.far_site import ALWAYS, depot_beyond_radius
from thirdway.audit.models import AuditRecord, Source
from thirdway.dispatch import engine
from thirdway.network import services as network
from thirdway.network.models import Partner
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching, offers
from thirdway.tickets.models import (
    DispatchKind,
    DispatchOffer,
    DispatchRecord,
    OfferState,
    Ticket,
)
from thirdway.tickets.tasks import reoptimise_dispatch_queue


@pytest.fixture
def far(cast):
    """Paula (the only Security partner, always at work) serves 60 km; Acme's depot is 84 km
    north of her home. Security is dispatched automatically."""
    return depot_beyond_radius(cast)


def _p1_at_depot(cast, priority: int = 1) -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Server room flooded",
        body_text="Water under the rack.",
        practice_id=cast.security.pk,
        site_id=cast.depot.pk,
        needs_onsite=True,
        priority=priority,
        priority_reason="The site is flooding.",
        source=Source.WEB,
    )


def _offered(cast, now=None) -> tuple[Ticket, DispatchOffer]:
    ticket = _p1_at_depot(cast)
    dispatching.dispatch_on_arrival(ticket.pk, now or timezone.now())
    return Ticket.objects.get(pk=ticket.pk), DispatchOffer.objects.get(ticket=ticket)


def test_work_beyond_the_radius_is_offered_and_the_ticket_stays_unassigned(far):
    ticket, offer = _offered(far)
    assert ticket.assignee is None and ticket.status == "new"
    assert offer.partner == far.partner_record and offer.state == OfferState.OPEN
    assert offer.limit_names == ["radius"]
    assert offer.stretched == "radius: site is 84 km away, serves 60 km"
    assert offer.why.startswith("nobody within their limits can respond before ")
    assert offer.expires_at - offer.offered_at == dt.timedelta(minutes=15)
    record = DispatchRecord.objects.get(ticket=ticket)
    assert record.kind == DispatchKind.OFFERED and record.partner == far.partner_record
    assert record.candidates[0]["stretched_limits"] == ["radius"]
    assert record.candidates[0]["stretch_why"] == offer.why
    assert AuditRecord.objects.filter(action="ticket.dispatch_offered").count() == 1
    # The re-planned queue leaves a ticket awaiting an answer alone.
    assert ticket not in list(dispatching.queue())
    assert dispatching.dispatch_on_arrival(ticket.pk) is None


def test_the_recorded_ranking_of_a_stretch_is_the_engines_own(far):
    now = timezone.now()
    ticket, _ = _offered(far, now)
    record = DispatchRecord.objects.get(ticket=ticket)
    need = dispatching.needs_of([Ticket.objects.get(pk=ticket.pk)], now)[0]
    states = dispatching.partner_states(now, exclude_tickets=[ticket.pk])
    direct = engine.rank(need, states, dispatching.weights(far.security.pk), now)
    best = direct.top(dispatching.CANDIDATES_KEPT)
    assert best[0].stretched_limits == ("radius",)
    assert [c["partner_id"] for c in record.candidates] == [c.partner_id for c in best]
    assert [c["total"] for c in record.candidates] == [round(c.total, 3) for c in best]
    assert [c["explanation"] for c in record.candidates] == [c.explanation for c in best]
    assert record.candidates[0]["terms"]["stretch"] == round(best[0].terms["stretch"], 3)


def test_routine_work_is_stretched_only_when_nobody_who_serves_the_site_can_respond(far):
    ticket = _p1_at_depot(far, priority=3)
    dispatching.dispatch_on_arrival(ticket.pk)
    offer = DispatchOffer.objects.get(ticket=ticket)  # it would wait for ever: offered
    assert offer.partner == far.partner_record and offer.limit_names == ["radius"]
    assert offer.why.startswith("nobody with the skill serves this site: the nearest is 1.40")
    # A Security partner who serves the depot, with no hours: they cannot respond before it
    # is due, so routine work is still offered beyond a radius, saying so.
    near = network.create_partner(
        far.admin,
        name="Nora Near",
        email="nora.near@network.example",
        kind="partner",
        latitude=far.depot.latitude,
        longitude=far.depot.longitude,
        time_zone="Europe/Paris",
        working_hours={},
        source=Source.CLI,
    )
    network.set_skill(far.admin, near, far.security, 4, source=Source.CLI)
    second = _p1_at_depot(far, priority=3)
    dispatching.dispatch_on_arrival(second.pk)
    offer = DispatchOffer.objects.get(ticket=second)
    assert offer.partner == far.partner_record and offer.limit_names == ["radius"]
    assert offer.why.startswith("nobody within their limits can respond before")
    # At work, she can: routine work waits for her, and goes to her.
    Partner.objects.filter(pk=near.pk).update(working_hours=ALWAYS)
    third = _p1_at_depot(far, priority=3)
    dispatching.dispatch_on_arrival(third.pk)
    third.refresh_from_db()
    assert third.assignee == near and not DispatchOffer.objects.filter(ticket=third).exists()


def test_the_partner_accepts_and_the_ticket_is_theirs(far):
    ticket, offer = _offered(far)
    offers.accept(far.partner, offer.pk, source=Source.WEB)
    ticket.refresh_from_db()
    offer.refresh_from_db()
    assert ticket.assignee == far.partner_record and ticket.status == "assigned"
    assert offer.state == OfferState.ACCEPTED and offer.answered_by == far.partner
    accepted = DispatchRecord.objects.filter(ticket=ticket).first()
    assert accepted.kind == DispatchKind.ACCEPTED and accepted.actor == far.partner
    assert accepted.candidates[0]["stretched_limits"] == ["radius"]
    audit = AuditRecord.objects.get(action="ticket.dispatch_offer_accepted")
    assert audit.actor == far.partner
    # Answered once only.
    with pytest.raises(Exception, match="no longer open"):
        offers.accept(far.partner, offer.pk, source=Source.WEB)


def test_a_decline_needs_a_reason_and_dispatches_it_again_without_them(far):
    ticket, offer = _offered(far)
    with pytest.raises(Exception, match="Say why"):
        offers.decline(far.partner, offer.pk, "   ", source=Source.WEB)
    with pytest.raises(Exception, match="Say why"):
        offers.decline(far.partner, offer.pk, "x" * 501, source=Source.WEB)
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.OPEN
    offers.decline(far.partner, offer.pk, "On another call until 4", source=Source.WEB)
    offer.refresh_from_db()
    ticket.refresh_from_db()
    assert offer.state == OfferState.DECLINED and offer.decline_reason == "On another call until 4"
    # Paula was the only one: without her, nobody can take it, and the desk sees why.
    assert ticket.assignee is None and ticket.unassignable_reason
    assert not DispatchOffer.objects.filter(state=OfferState.OPEN).exists()
    audit = AuditRecord.objects.get(action="ticket.dispatch_offer_declined")
    assert audit.actor == far.partner
    assert audit.changes["decline_reason"] == ["", "On another call until 4"]
    kinds = list(DispatchRecord.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds[:2] == [DispatchKind.UNASSIGNABLE, DispatchKind.DECLINED]
    # The re-planned queue does not offer it to her again.
    reoptimise_dispatch_queue.call()
    assert not DispatchOffer.objects.filter(state=OfferState.OPEN).exists()


def test_an_unanswered_offer_lapses_with_the_re_plan_and_goes_elsewhere(far):
    now = timezone.now()
    ticket, offer = _offered(far, now)
    assert offers.expire_offers(now + dt.timedelta(minutes=14)) == 0
    # A second Security partner within reach joins meanwhile.
    Partner.objects.filter(pk=far.associate_record.pk).update(
        latitude=far.depot.latitude, longitude=far.depot.longitude
    )
    from thirdway.network import services as network

    network.set_skill(far.admin, far.associate_record, far.security, 3, source=Source.CLI)
    assert offers.expire_offers(now + dt.timedelta(minutes=15)) == 1
    offer.refresh_from_db()
    ticket.refresh_from_db()
    assert offer.state == OfferState.EXPIRED and offer.answered_by is None
    assert ticket.assignee == far.associate_record
    assert AuditRecord.objects.filter(action="ticket.dispatch_offer_expired").count() == 1
    with pytest.raises(Exception, match="no longer open"):
        offers.accept(far.partner, offer.pk, source=Source.WEB)


def test_the_re_plan_job_lets_lapsed_offers_go(far):
    _, offer = _offered(far)
    DispatchOffer.objects.filter(pk=offer.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    result = reoptimise_dispatch_queue.call()
    assert result["offers_expired"] == 1
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.EXPIRED


def test_only_the_partner_offered_may_answer(far):
    _, offer = _offered(far)
    for user in (far.other_partner, far.associate, far.client_admin, far.outsider):
        with pytest.raises(DispatchOffer.DoesNotExist):
            offers.accept(user, offer.pk, source=Source.WEB)
    # The desk and admins see it, but it is not theirs to answer.
    from django.core.exceptions import PermissionDenied

    for user in (far.desk, far.admin):
        with pytest.raises(PermissionDenied):
            offers.decline(user, offer.pk, "not mine", source=Source.WEB)
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.OPEN


def test_offers_are_seen_by_their_partner_and_the_desk_only(far):
    _offered(far)
    seen = {name: list(DispatchOffer.objects.for_user(u)) for name, u in far.users().items()}
    assert {name for name, rows in seen.items() if rows} == {"admin", "desk", "partner"}


def test_the_offer_timeout_is_a_practice_setting_within_bounds(far):
    from django.core.exceptions import PermissionDenied, ValidationError

    for bad in (0, 241, "15", True):
        with pytest.raises(ValidationError) as refused:
            offers.set_offer_timeout(far.admin, far.security, bad, source=Source.WEB)
        assert "offer_timeout_minutes" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        offers.set_offer_timeout(far.partner, far.security, 30, source=Source.WEB)
    offers.set_offer_timeout(far.admin, far.security, 30, source=Source.WEB)
    assert AuditRecord.objects.filter(action="dispatch.offer_timeout").count() == 1
    _, offer = _offered(far)
    assert offer.expires_at - offer.offered_at == dt.timedelta(minutes=30)


# --- through the API and the web -----------------------------------------------------------------

API = "/api/v1/dispatch-offers"


def test_the_partner_lists_and_accepts_their_offer_through_the_api(far, api_as):
    ticket, offer = _offered(far)
    api = api_as(far.partner)
    listed = api.get(API)
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["id"] == offer.pk and row["ticket_number"] == ticket.number
    assert row["limits"] == ["radius"] and row["state"] == "open"
    assert api_as(far.other_partner).get(API).json() == []
    assert [r["id"] for r in api_as(far.desk).get(API).json()] == [offer.pk]
    answer = api.post(f"{API}/{offer.pk}/accept")
    assert answer.status_code == 200 and answer.json()["state"] == "accepted"
    assert Ticket.objects.get(pk=ticket.pk).assignee == far.partner_record
    again = api.post(f"{API}/{offer.pk}/accept")
    assert again.status_code == 400


def test_a_decline_through_the_api_names_the_reason_when_it_is_missing(far, api_as):
    _, offer = _offered(far)
    api = api_as(far.partner)
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
        refused = api.post(f"{API}/{offer.pk}/decline", body, content_type="application/json")
        assert refused.status_code == 400, body
        assert "reason" in refused.content.decode()
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.OPEN
    answer = api.post(
        f"{API}/{offer.pk}/decline", {"reason": "Car broken"}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["decline_reason"] == "Car broken"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("other_partner", 404),
        ("associate", 404),
        ("client_admin", 404),
        ("other_client_user", 404),
        ("outsider", 404),
        ("desk", 403),
        ("admin", 403),
    ],
)
def test_nobody_else_answers_an_offer_through_the_api(far, api_as, role, status):
    _, offer = _offered(far)
    api = api_as(getattr(far, role))
    assert api.post(f"{API}/{offer.pk}/accept").status_code == status
    declined = api.post(
        f"{API}/{offer.pk}/decline", {"reason": "mine now"}, content_type="application/json"
    )
    assert declined.status_code == status
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.OPEN


def test_the_offers_page_and_the_desk_see_what_awaits_acceptance(far, web_as):
    ticket, offer = _offered(far)
    page = web_as(far.partner).get("/tickets/offers/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'id="offer-{offer.pk}"' in text and "stretched: radius" in text
    assert "site is 84 km away, serves 60 km" in text
    desk = web_as(far.desk)
    assert "Awaiting other partners" in desk.get("/tickets/offers/").content.decode()
    detail = desk.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Awaiting acceptance" in detail and "stretched: radius" in detail
    assert f"/tickets/offers/{offer.pk}/accept/" not in detail  # not the desk's to answer
    queue = desk.get("/tickets/?queue=triage").content.decode()
    assert ticket.number in queue
    assert "Offered to Paula Partner: awaiting acceptance, stretched: radius" in queue
    assert web_as(far.client_admin).get("/tickets/offers/").status_code in (403, 404)


def test_a_decline_on_the_page_without_a_reason_is_refused_and_changes_nothing(far, web_as):
    _, offer = _offered(far)
    web = web_as(far.partner)
    refused = web.post(f"/tickets/offers/{offer.pk}/decline/", {"reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.OPEN
    assert web_as(far.other_partner).post(f"/tickets/offers/{offer.pk}/accept/").status_code == 404
    done = web.post(f"/tickets/offers/{offer.pk}/decline/", {"reason": "Too far tonight"})
    assert done.status_code == 302
    assert DispatchOffer.objects.get(pk=offer.pk).state == OfferState.DECLINED


def test_the_practice_admin_sets_the_offer_timeout_on_the_settings_page(far, web_as):
    admin = web_as(far.admin)
    url = f"/settings/dispatch/{far.security.pk}/"
    assert 'name="offer_timeout_minutes"' in admin.get(url).content.decode()
    base = {"auto_dispatch": "on"}
    refused = admin.post(url, base | {"offer_timeout_minutes": "241"})
    assert refused.status_code == 200 and "240" in refused.content.decode()
    assert offers.offer_timeout(far.security.pk) == dt.timedelta(minutes=15)
    assert admin.post(url, base | {"offer_timeout_minutes": "45"}).status_code == 302
    assert offers.offer_timeout(far.security.pk) == dt.timedelta(minutes=45)
    assert web_as(far.partner).post(url, base | {"offer_timeout_minutes": "5"}).status_code in (
        403,
        404,
    )
    assert offers.offer_timeout(far.security.pk) == dt.timedelta(minutes=45)
