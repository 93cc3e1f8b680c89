"""Urgent work is not left waiting on a partner who cannot take it now: a P1 or late ticket
nobody has started moves, once, to the partner the engine ranks first (practices that ask)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.models import DispatchKind, DispatchRecord, Ticket

from .test_dispatching import ALWAYS, _lyon_partner

NEVER: dict = {}


@pytest.fixture
def practice(cast):
    """Security moves late work; Paula (level 4) and Lou in Lyon (level 3) both work all week."""
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(move_late=True)
    cast.security.refresh_from_db()
    return cast.security


@pytest.fixture
def lou(cast, practice):
    return _lyon_partner(cast, "Lou Lyon", practice, 3)


def _held_by_paula(cast, practice, priority: int) -> Ticket:
    ticket = tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Ransomware note on the till",
        body_text="A note on the screen asks for money.",
        practice_id=practice.pk,
        priority=priority,
        priority_reason="Set by the desk.",
        source=Source.WEB,
    )
    tickets.assign(cast.admin, ticket, cast.partner_record, source=Source.WEB)
    return Ticket.objects.get(pk=ticket.pk)


def _off_shift(partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).update(working_hours=NEVER)


def test_a_p1_whose_partner_is_off_shift_moves_to_the_partner_ranked_first(cast, practice, lou):
    ticket = _held_by_paula(cast, practice, priority=1)
    _off_shift(cast.partner_record)
    outcome = dispatching.move_late()
    assert outcome == {"looked_at": 1, "moved": 1}
    ticket.refresh_from_db()
    assert ticket.assignee == lou
    record = DispatchRecord.objects.get(ticket=ticket, kind=DispatchKind.MOVED)
    assert record.partner == lou
    assert record.reason.startswith("Moved: P1 and not started; Paula Partner cannot take it now")
    assert record.candidates[0]["name"] == "Lou Lyon"
    # Assigned by a person, then moved by the system: both in the audit trail.
    assigned = AuditRecord.objects.filter(action="ticket.assign", scope=f"ticket:{ticket.pk}")
    assert [record.actor_id for record in assigned.order_by("pk")] == [cast.admin.pk, None]
    # Once only: even with Lou now off shift too, it stays with Lou.
    _off_shift(lou)
    Partner.objects.filter(pk=cast.partner_record.pk).update(working_hours=ALWAYS)
    assert dispatching.move_late() == {"looked_at": 0, "moved": 0}
    assert Ticket.objects.get(pk=ticket.pk).assignee == lou


def test_a_partner_who_can_still_take_it_keeps_it(cast, practice, lou):
    ticket = _held_by_paula(cast, practice, priority=1)
    # Lou would rank first (Paula is busier), but Paula can take it in time: hers it stays.
    Partner.objects.filter(pk=cast.partner_record.pk).update(capacity=20)
    assert dispatching.move_late() == {"looked_at": 1, "moved": 0}
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.partner_record
    assert not DispatchRecord.objects.filter(ticket=ticket, kind=DispatchKind.MOVED).exists()


def test_started_work_and_practices_that_did_not_ask_are_left_alone(cast, practice, lou):
    started = _held_by_paula(cast, practice, priority=1)
    tickets.reply(cast.partner, started, body_text="On it.", source=Source.WEB)
    other = _held_by_paula(cast, cast.networking, priority=1)
    _off_shift(cast.partner_record)
    assert dispatching.move_late() == {"looked_at": 0, "moved": 0}
    assert {t.assignee for t in Ticket.objects.filter(pk__in=[started.pk, other.pk])} == {
        cast.partner_record
    }


def test_a_p3_moves_only_once_its_response_is_late(cast, practice, lou):
    ticket = _held_by_paula(cast, practice, priority=3)
    _off_shift(cast.partner_record)
    assert dispatching.move_late() == {"looked_at": 0, "moved": 0}
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert dispatching.move_late() == {"looked_at": 1, "moved": 1}
    ticket.refresh_from_db()
    assert ticket.assignee == lou
    record = DispatchRecord.objects.get(ticket=ticket, kind=DispatchKind.MOVED)
    assert record.reason.startswith("Moved: late and not started")


def test_nobody_free_leaves_it_where_it_is(cast, practice):
    ticket = _held_by_paula(cast, practice, priority=1)
    _off_shift(cast.partner_record)
    assert dispatching.move_late() == {"looked_at": 1, "moved": 0}
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.partner_record
