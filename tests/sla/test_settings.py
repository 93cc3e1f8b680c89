"""Calendars, policies and escalation steps: what the services accept, refuse and record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import AuditRecord, Source
from thirdway.sla import calendars, engine
from thirdway.sla import services as sla
from thirdway.sla.models import BusinessCalendar, EscalationStep, SlaPolicy, SlaTarget

UTC = dt.UTC


def _problem(error: ValidationError) -> tuple[str, str]:
    field, errors = next(iter(error.error_dict.items()))
    return field, errors[0].params["allowed"]


def test_an_office_calendar_skips_french_public_holidays_and_own_closed_days(office):
    calendar = calendars.to_engine(office, dt.date(2026, 7, 1))
    # 14 July 2026 is a Tuesday and Bastille Day: closed all day.
    bastille = dt.datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert not engine.is_open(calendar, bastille)
    assert engine.is_open(calendar, bastille + dt.timedelta(days=1))
    # 24 December 2026 is the practice's own closed day (a Thursday).
    assert not engine.is_open(calendar, dt.datetime(2026, 12, 24, 8, 0, tzinfo=UTC))


def test_regional_holidays_follow_the_region(cast):
    def calendar(region):
        row = sla.create_calendar(
            cast.admin,
            name=f"Germany {region}",
            time_zone="Europe/Berlin",
            weekly_hours={"mon": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]]},
            holiday_country="DE",
            holiday_region=region,
            source=Source.CLI,
        )
        return calendars.to_engine(row, dt.date(2026, 6, 1))

    corpus_christi = dt.datetime(2026, 6, 4, 8, 0, tzinfo=UTC)  # a Thursday
    assert not engine.is_open(calendar("BY"), corpus_christi)  # Bavaria keeps it
    assert engine.is_open(calendar("HH"), corpus_christi)  # Hamburg works


def test_a_calendar_change_is_recorded_and_seen_by_the_compiled_calendar(cast, office):
    sla.update_calendar(cast.admin, office, {"closed_dates": ["2026-07-15"]}, source=Source.API)
    office.refresh_from_db()
    calendar = calendars.to_engine(office, dt.date(2026, 7, 1))
    assert not engine.is_open(calendar, dt.datetime(2026, 7, 15, 8, 0, tzinfo=UTC))
    actions = AuditRecord.objects.filter(object_type="sla.businesscalendar")
    assert sorted(actions.values_list("action", flat=True)) == [
        "sla.calendar.create",
        "sla.calendar.update",
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"weekly_hours": {"mon": [["12:00", "09:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {"funday": [["09:00", "17:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {}}, "weekly_hours"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "FR", "holiday_region": "ZZ"}, "holiday_region"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates"),
    ],
)
def test_bad_calendars_are_refused_naming_the_field_and_what_is_allowed(cast, data, field):
    base = {
        "name": "Bad",
        "time_zone": "Europe/Paris",
        "weekly_hours": {"mon": [["09:00", "17:00"]]},
    }
    with pytest.raises(ValidationError) as caught:
        sla.create_calendar(cast.admin, source=Source.API, **(base | data))
    named, allowed = _problem(caught.value)
    assert named == field and allowed
    assert not BusinessCalendar.objects.filter(name="Bad").exists()


def test_a_policy_keeps_targets_per_priority_and_steps_per_clock(standard):
    assert SlaTarget.objects.get(policy=standard, priority=1).first_response_minutes == 60
    assert SlaTarget.objects.get(policy=standard, priority=4).next_response_minutes is None
    steps = EscalationStep.objects.filter(policy=standard, clock="first_response")
    assert [(s.percent, s.actions) for s in steps] == [
        (75, ["warn_assignee"]),
        (100, ["notify_lead", "hand_to_on_call"]),
    ]


@pytest.mark.parametrize(
    "steps",
    [
        {"resolution": [(100, ["notify_lead"]), (75, ["warn_assignee"])]},  # out of order
        {"resolution": [(120, ["notify_lead"])]},  # beyond 100 %
        {"resolution": [(75, ["warn_assignee"]), (75, ["notify_lead"])]},  # twice
        {"resolution": [(50, ["phone_the_ceo"])]},  # unknown action
        {"coffee": [(50, ["warn_assignee"])]},  # unknown clock
    ],
)
def test_bad_escalation_steps_are_refused_and_change_nothing(cast, standard, steps):
    with pytest.raises(ValidationError) as caught:
        sla.set_steps(cast.admin, standard, steps, source=Source.API)
    field, allowed = _problem(caught.value)
    assert field.startswith("steps") and allowed
    assert EscalationStep.objects.filter(policy=standard).count() == 4


def test_bad_targets_are_refused(cast, standard):
    with pytest.raises(ValidationError):
        sla.set_targets(cast.admin, standard, {5: {"resolution": 60}}, source=Source.API)
    with pytest.raises(ValidationError):
        sla.set_targets(cast.admin, standard, {1: {"resolution": -5}}, source=Source.API)
    assert SlaTarget.objects.filter(policy=standard).count() == 4


def test_only_one_default_policy(cast, standard, always):
    critical = sla.create_policy(
        cast.admin,
        name="Critical 24x7",
        calendar=always,
        targets={1: {"first_response": 15, "resolution": 120}},
        is_default=True,
        source=Source.CLI,
    )
    assert list(SlaPolicy.objects.filter(is_default=True)) == [critical]


def test_a_client_gets_its_own_policy_and_calendar_else_the_default(cast, standard, always):
    assert sla.policy_for_client(cast.acme.pk) == (standard, standard.calendar)
    critical = sla.create_policy(
        cast.admin,
        name="Critical 24x7",
        calendar=always,
        targets={1: {"first_response": 15}},
        source=Source.CLI,
    )
    sla.set_client_service_level(
        cast.admin, cast.globex, policy=critical, calendar=None, source=Source.CLI
    )
    assert sla.policy_for_client(cast.globex.pk) == (critical, always)
    sla.set_client_service_level(
        cast.admin, cast.acme, policy=None, calendar=always, source=Source.CLI
    )
    assert sla.policy_for_client(cast.acme.pk) == (standard, always)


def test_only_practice_admins_change_service_levels(cast, office):
    with pytest.raises(PermissionDenied):
        sla.update_calendar(cast.partner, office, {"name": "Mine"}, source=Source.WEB)
    with pytest.raises(PermissionDenied):
        sla.create_policy(cast.desk, name="x", calendar=office, targets={}, source=Source.WEB)
