"""When a partner comes free (finishes a ticket, starts a shift, comes back), their practice
may offer them their next ticket or take it for them, by the rule of Take my next ticket; never
while they have work in progress or are off shift, never a client they do not serve, and once
per event however often the task runs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.dispatch import engine
from thirdway.network import services as network
from thirdway.network.models import Absence, Partner
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import coming_free, switches
from thirdway.tickets.models import DispatchKind, DispatchRecord, Ticket
from thirdway.tickets.notifications.models import Notification, NotificationKind
from thirdway.tickets.tasks import partner_came_free

from . import test_next_ticket as taking
from .test_next_ticket import ALWAYS, HOUR, _ticket

desk = taking.desk  # the fixture: Paula, Sam's overdue P2, Globex's P1 Paula does not serve

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MINUTE = dt.timedelta(minutes=1)
TRIGGERS = ("resolved", "shift", "back")
LABELS = {"resolved": "finished a ticket", "shift": "started a shift", "back": "came back"}


def _when_free(cast, value: str, practice=None) -> None:
    practice = practice or cast.security
    switches.set_switches(cast.admin, practice, {"when_free": value}, source=Source.CLI)


def _working(cast, partner_user, partner) -> Ticket:
    """A P3 of Acme that ``partner`` is at work on."""
    ticket = _ticket(cast, cast.acme, 3, holder=partner, due=timezone.now() + 2 * HOUR)
    return tickets.change_status(partner_user, ticket, "in_progress", source=Source.WEB)


def _hours_from(partner: Partner, now: dt.datetime, minutes_ago: int) -> dict:
    """Working hours of one interval, today in the partner's zone, that began ``minutes_ago``."""
    local = now.astimezone(zoneinfo.ZoneInfo(partner.time_zone))
    start = local.hour * 60 + local.minute - minutes_ago
    day = engine.WEEKDAYS[local.weekday()]
    return {day: [[f"{start // 60:02d}:{start % 60:02d}", "24:00"]]}


def _now_not_near_midnight(partner: Partner) -> dt.datetime:
    now = timezone.now()
    local = now.astimezone(zoneinfo.ZoneInfo(partner.time_zone))
    if local.hour == 0 and local.minute < 15:
        now += 20 * MINUTE
    return now


def _come_free(cast, trigger: str, settings, capture) -> dt.datetime:
    """Make Paula come free by ``trigger``; returns the moment it is decided."""
    paula = cast.partner_record
    now = _now_not_near_midnight(paula)
    if trigger == "resolved":
        working = _working(cast, cast.partner, paula)
        settings.TASKS = IMMEDIATE
        with capture(execute=True):
            tickets.change_status(cast.partner, working, "resolved", source=Source.WEB)
        return timezone.now()
    if trigger == "shift":
        Partner.objects.filter(pk=paula.pk).update(working_hours=_hours_from(paula, now, 2))
    else:
        Absence.objects.create(
            partner=paula, kind="vacation", starts_at=now - 48 * HOUR, ends_at=now - 2 * MINUTE
        )
    coming_free.sweep(now=now)
    return now


def _taken() -> list[DispatchRecord]:
    return list(DispatchRecord.objects.filter(kind=DispatchKind.TAKEN))


def _next_notices(cast) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=cast.partner, kind=NotificationKind.NEXT_TICKET)
    )


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_taken_for_them_when_the_practice_takes(
    desk, trigger, settings, django_capture_on_commit_callbacks
):
    _when_free(desk, "take")
    _come_free(desk, trigger, settings, django_capture_on_commit_callbacks)
    overdue = Ticket.objects.get(pk=desk.overdue.pk)
    assert overdue.assignee == desk.partner_record  # Sam's overdue P2 beats Paula's own P4
    [record] = _taken()
    assert record.ticket_id == overdue.pk and record.actor is None
    assert record.reason.startswith("Taken as the most urgent next: P2, response overdue")
    assert f"Paula Partner {LABELS[trigger]}" in record.reason
    audit = AuditRecord.objects.get(action="ticket.assign", object_id=str(overdue.pk), actor=None)
    assert audit.changes == {"assignee": [desk.sam.pk, desk.partner_record.pk]}
    assert Notification.objects.filter(
        recipient=desk.partner, kind=NotificationKind.ASSIGNED, ticket=overdue
    ).exists()
    assert Ticket.objects.get(pk=desk.alien.pk).assignee is None  # Globex: not Paula's client


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_offered_to_them_when_the_practice_offers(
    desk, trigger, settings, django_capture_on_commit_callbacks
):
    _when_free(desk, "offer")
    _come_free(desk, trigger, settings, django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam  # still Sam's
    assert _taken() == []
    [notice] = _next_notices(desk)
    assert notice.ticket_id == desk.overdue.pk
    assert notice.text.startswith(f"Your next ticket: {desk.overdue.number}")
    assert f"(P2, response overdue, from another partner's queue; you {LABELS[trigger]})" in (
        notice.text
    )
    claim = coming_free.ComingFree.objects.get(partner=desk.partner_record, trigger=trigger)
    assert (
        claim.outcome == f"Offered: {desk.overdue.number}." and claim.ticket_id == desk.overdue.pk
    )


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_nothing_happens_by_default(desk, trigger, settings, django_capture_on_commit_callbacks):
    _come_free(desk, trigger, settings, django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
    assert _taken() == [] and _next_notices(desk) == []
    assert not coming_free.ComingFree.objects.exists()


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_partner_with_a_ticket_in_progress_is_given_nothing(
    desk, trigger, settings, django_capture_on_commit_callbacks
):
    _when_free(desk, "take")
    _working(desk, desk.partner, desk.partner_record)  # still at work on this one
    _come_free(desk, trigger, settings, django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
    assert _taken() == []
    claim = coming_free.ComingFree.objects.get(partner=desk.partner_record, trigger=trigger)
    assert claim.outcome == "Nothing: a ticket in progress." and claim.ticket is None


def test_a_partner_off_shift_is_given_nothing_when_they_finish(
    desk, settings, django_capture_on_commit_callbacks
):
    _when_free(desk, "take")
    working = _working(desk, desk.partner, desk.partner_record)
    Partner.objects.filter(pk=desk.partner_record.pk).update(working_hours={})
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        tickets.change_status(desk.partner, working, "resolved", source=Source.WEB)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
    claim = coming_free.ComingFree.objects.get(partner=desk.partner_record)
    assert claim.outcome == "Nothing: off shift or away."


def test_a_partner_back_before_their_shift_is_given_nothing(desk):
    _when_free(desk, "take")
    now = _now_not_near_midnight(desk.partner_record)
    Partner.objects.filter(pk=desk.partner_record.pk).update(working_hours={})
    Absence.objects.create(
        partner=desk.partner_record, kind="sick", starts_at=now - HOUR, ends_at=now - MINUTE
    )
    assert coming_free.sweep(now=now) == {"came_free": 1}
    assert _taken() == []


def test_a_partner_still_away_is_given_nothing(desk):
    _when_free(desk, "take")
    now = _now_not_near_midnight(desk.partner_record)
    Absence.objects.create(
        partner=desk.partner_record, kind="sick", starts_at=now - HOUR, ends_at=now + HOUR
    )
    outcome = coming_free.came_free(desk.partner_record.pk, "shift", "test", now=now)
    assert outcome is not None and outcome.outcome == "Nothing: off shift or away."


def test_the_task_run_again_assigns_nothing_twice(desk):
    _when_free(desk, "take")
    args = (desk.partner_record.pk, "resolved", "9@2026-01-05T10:00:00+00:00")
    assert partner_came_free.call(*args) == f"Taken: {desk.overdue.number}."
    # a more urgent ticket arrives meanwhile: a retry of the same event still does nothing
    _ticket(desk, desk.acme, 1, due=timezone.now() - HOUR)
    assert partner_came_free.call(*args) == ""
    assert len(_taken()) == 1 and coming_free.ComingFree.objects.count() == 1


def test_the_sweep_run_again_sees_each_shift_start_once(desk):
    _when_free(desk, "offer")
    paula = desk.partner_record
    now = _now_not_near_midnight(paula)
    Partner.objects.filter(pk=paula.pk).update(working_hours=_hours_from(paula, now, 2))
    assert coming_free.sweep(now=now) == {"came_free": 1}
    assert coming_free.sweep(now=now + MINUTE) == {"came_free": 0}
    assert len(_next_notices(desk)) == 1


def test_a_shift_that_began_long_ago_is_no_coming_free(desk, settings):
    settings.DISPATCH_REOPTIMISE_SECONDS = 300  # looks back 10 minutes
    _when_free(desk, "take")
    paula = desk.partner_record
    now = _now_not_near_midnight(paula)
    start = now.astimezone(zoneinfo.ZoneInfo(paula.time_zone))
    minutes = min(start.hour * 60 + start.minute, 30)
    Partner.objects.filter(pk=paula.pk).update(working_hours=_hours_from(paula, now, minutes))
    assert coming_free.sweep(now=now) == {"came_free": 0}
    assert _taken() == []


def test_only_the_practices_that_offer_or_take_are_looked_at(desk):
    """Security's tickets are left alone when only Networking takes."""
    _when_free(desk, "take", desk.networking)
    claim = coming_free.came_free(desk.partner_record.pk, "shift", "x", now=timezone.now())
    assert claim is not None and claim.outcome == "Nothing more urgent than their own queue."
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam


def test_never_a_ticket_of_a_client_the_partner_does_not_serve(desk):
    """Paula does not serve Globex: she takes Acme's overdue P2, not Globex's more urgent P1.
    Oscar leads Globex, not Acme: he takes Globex's P1, never an Acme ticket."""
    _when_free(desk, "take")
    oscar = desk.other_partner_record
    network.set_skill(desk.admin, oscar, desk.security, 4, source=Source.CLI)
    now = timezone.now()
    claim = coming_free.came_free(desk.partner_record.pk, "back", "1", now=now)
    assert claim is not None and claim.ticket_id == desk.overdue.pk
    assert Ticket.objects.get(pk=desk.alien.pk).assignee is None
    _ticket(desk, desk.acme, 1, due=now - HOUR)  # an Acme P1 nobody holds
    claim = coming_free.came_free(oscar.pk, "back", "2", now=now)
    assert claim is not None and claim.ticket_id == desk.alien.pk
    assert not Ticket.objects.filter(client=desk.acme, assignee=oscar).exists()


def test_a_round_the_clock_partner_has_no_shift_start_at_midnight():
    split = {"mon": [["00:00", "09:00"], ["09:00", "17:00"]]}
    monday_nine = dt.datetime(2026, 1, 5, 9, 5, tzinfo=dt.UTC)
    assert coming_free.shift_start(ALWAYS, "UTC", monday_nine) is None
    assert coming_free.shift_start(split, "UTC", monday_nine) is None
    assert coming_free.shift_start({"mon": [["09:00", "17:00"]]}, "UTC", monday_nine) == (
        monday_nine.replace(minute=0)
    )


def test_a_ticket_resolved_by_the_desk_frees_its_partner_too(
    desk, settings, django_capture_on_commit_callbacks
):
    _when_free(desk, "take")
    working = _working(desk, desk.partner, desk.partner_record)
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        tickets.change_status(desk.admin, working, "closed", source=Source.WEB)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.partner_record


def test_take_it_on_an_offer_spends_its_notice_and_only_ones_own(
    desk, settings, django_capture_on_commit_callbacks, client
):
    _when_free(desk, "offer")
    _come_free(desk, "shift", settings, django_capture_on_commit_callbacks)
    [notice] = _next_notices(desk)
    others = Notification.objects.create(
        recipient=desk.admin,
        ticket=desk.overdue,
        kind=NotificationKind.NEXT_TICKET,
        text="x",
        created_at=timezone.now(),
    )
    client.force_login(desk.partner)
    for wanted in (str(others.pk), "9" * 40, "not a number"):
        client.post(reverse("tickets:take_next"), {"notification": wanted})
    others.refresh_from_db()
    assert others.read_at is None  # someone else's notice is left as it was
    answer = client.post(reverse("tickets:take_next"), {"notification": notice.pk})
    assert answer.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
