"""The desk ranks a partner out on a visit by the drive from it: the site of their on-site
ticket in progress, else home; the record says so and is the engine's own ranking."""

from __future__ import annotations

import pytest
from django.utils import timezone

from support.far_site import ALWAYS, KM
from thirdway.audit.models import Source
from thirdway.clients import services as clients
from thirdway.dispatch import engine
from thirdway.dispatch.engine import evaluation
from thirdway.network.models import Partner
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.models import Ticket, number_of


def _site(cast, name: str, km_north: float):
    home = cast.partner_record
    return clients.create_site(
        cast.admin,
        cast.acme,
        name=name,
        latitude=home.latitude + km_north / KM,
        longitude=home.longitude,
        source=Source.CLI,
    )


def _onsite(cast, site, subject: str) -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="On site, please.",
        practice_id=cast.security.pk,
        site_id=site.pk,
        needs_onsite=True,
        source=Source.WEB,
    )


@pytest.fixture
def out_on_a_visit(cast):
    """Paula (Security, always at work, serves 60 km) is at work on site at Acme's depot,
    55 km north of her home; the warehouse is 10 km further on."""
    Partner.objects.update(working_hours=ALWAYS)
    Partner.objects.filter(pk=cast.partner_record.pk).update(service_radius_km=60)
    cast.visit = _onsite(cast, _site(cast, "Depot", 55), "Alarm panel")
    tickets.assign(cast.admin, cast.visit, cast.partner_record, source=Source.WEB)
    tickets.change_status(cast.partner, cast.visit, "in_progress", source=Source.WEB)
    cast.next = _onsite(cast, _site(cast, "Warehouse", 65), "Door sensor")
    return cast


def test_a_partner_at_work_on_site_is_ranked_by_the_drive_from_there(out_on_a_visit):
    cast = out_on_a_visit
    now = timezone.now()
    record = dispatching.suggest(cast.desk, cast.next, now=now)
    paula = next(c for c in record.candidates if c["partner_id"] == cast.partner_record.pk)
    where = number_of(cast.visit.pk)
    assert f"10 km drive from the site of {where};" in paula["explanation"]
    # 10 km of the 40 km scale, counted more since she can start it in time and it is
    # routine work (the engine's factors for a drive that cannot make the ticket late)
    in_time = evaluation.TRAVEL_IN_TIME * evaluation.TRAVEL_ROUTINE
    assert paula["terms"]["travel"] == pytest.approx(10 / 40 * in_time, abs=0.01)
    # The recorded ranking is the engine's own, fed the same partner states.
    need = dispatching.needs_of([Ticket.objects.get(pk=cast.next.pk)], now)[0]
    direct = engine.rank(need, dispatching.partner_states(now), engine.Weights(), now)
    kept = direct.top(dispatching.CANDIDATES_KEPT)
    assert [c["partner_id"] for c in record.candidates] == [c.partner_id for c in kept]
    assert [c["explanation"] for c in record.candidates] == [c.explanation for c in kept]


def test_a_partner_with_no_visit_in_progress_drives_from_home(out_on_a_visit):
    cast = out_on_a_visit
    tickets.change_status(cast.partner, cast.visit, "resolved", source=Source.WEB)
    states = {s.id: s for s in dispatching.partner_states(timezone.now())}
    assert states[cast.partner_record.pk].drive_from == {}
    # 65 km from home, beyond her 60: the radius stretched, since nobody else serves it.
    paula = dispatching.rank(cast.next, timezone.now()).verdict(cast.partner_record.pk)
    assert isinstance(paula, engine.Candidate)
    assert paula.distance_km == pytest.approx(65, abs=0.5)
    assert "drive from" not in paula.explanation


def test_the_ticket_being_ranked_is_not_the_visit_it_drives_from(out_on_a_visit):
    cast = out_on_a_visit
    states = dispatching.partner_states(timezone.now(), exclude_tickets=[cast.visit.pk])
    paula = next(s for s in states if s.id == cast.partner_record.pk)
    assert paula.drive_from == {}
    visit = next(s for s in dispatching.partner_states(timezone.now()) if s.id == paula.id)
    assert visit.drive_from["P3"].name == f"the site of {number_of(cast.visit.pk)}"
