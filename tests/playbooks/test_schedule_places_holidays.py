"""Schedules for a site or an asset, and schedules that respect the client's closed days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.playbooks import schedules, services
from thirdway.playbooks.models import Run, Schedule
from thirdway.sla import services as sla
from thirdway.tickets.models import Ticket

WEB = Source.WEB
# Mondays at 08:00 Paris; Easter Monday 2026 (6 April) is a public holiday in France.
MONDAYS = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"
PARIS = dt.timezone(dt.timedelta(hours=2))  # summer time in April
EASTER_MONDAY = dt.datetime(2026, 4, 6, 8, tzinfo=PARIS)
WEEKDAYS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _schedule(cast, **more):
    data = {
        "name": "Patch servers",
        "rule": MONDAYS,
        "starts_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "time_zone": "Europe/Paris",
        "lead_minutes": 0,
        "makes": "ticket",
        **more,
    }
    return schedules.save_schedule(cast.partner, cast.acme, data, source=WEB)


def _fields(error) -> set[str]:
    return set(error.value.message_dict)


def _french_calendar(cast, **more):
    calendar = sla.create_calendar(
        cast.admin,
        name="Paris office",
        time_zone="Europe/Paris",
        weekly_hours=WEEKDAYS,
        holiday_country="FR",
        source=WEB,
        **more,
    )
    policy = sla.create_policy(cast.admin, name="Office", calendar=calendar, targets={}, source=WEB)
    sla.set_client_service_level(cast.admin, cast.acme, policy=policy, calendar=None, source=WEB)
    return calendar


def _at(schedule, moment):
    """Put the schedule's next occurrence at ``moment`` (as the sweep before it would have)."""
    Schedule.objects.filter(pk=schedule.pk).update(
        next_at=moment, make_at=schedules.make_at(moment, schedule.lead_minutes)
    )
    schedule.refresh_from_db()


def test_a_schedule_for_a_site_and_asset_makes_tickets_there(cast):
    schedule = _schedule(cast, site=cast.acme_site.pk, asset=cast.acme_server.pk)
    assert (schedule.site, schedule.asset) == (cast.acme_site, cast.acme_server)
    schedules.sweep(schedule.next_at)
    ticket = Ticket.objects.get(pk=Schedule.objects.get(pk=schedule.pk).last_ticket_id)
    assert (ticket.site_id, ticket.asset_id) == (cast.acme_site.pk, cast.acme_server.pk)


def test_a_run_made_by_a_schedule_carries_its_asset(cast):
    playbook = services.copy_builtin(
        cast.admin, "client_onboarding", practice_id=cast.security.pk, source=Source.CLI
    )
    schedule = _schedule(cast, makes="run", playbook=playbook.pk, asset=cast.acme_laptop.pk)
    schedules.sweep(schedule.next_at)
    run = Run.objects.select_related("ticket").get(schedule=schedule)
    assert run.ticket.asset_id == cast.acme_laptop.pk


@pytest.mark.parametrize("field", ["site", "asset"])
def test_a_site_or_asset_of_another_client_is_refused_naming_it(cast, field):
    other = {"site": cast.globex_site, "asset": cast.globex_laptop}[field]
    with pytest.raises(ValidationError) as error:
        _schedule(cast, **{field: other.pk})
    assert _fields(error) == {field}
    assert not Schedule.objects.exists()
    kept = _schedule(cast)
    with pytest.raises(ValidationError):
        schedules.save_schedule(
            cast.partner, cast.acme, {field: other.pk}, schedule=kept, source=WEB
        )
    kept.refresh_from_db()
    assert getattr(kept, f"{field}_id") is None


def test_skip_passes_over_an_occurrence_on_a_public_holiday(cast):
    _french_calendar(cast)
    schedule = _schedule(cast, on_holiday="skip")
    _at(schedule, EASTER_MONDAY)
    assert schedules.sweep(EASTER_MONDAY)["made"] == 0
    schedule.refresh_from_db()
    assert schedule.last_ticket_id is None
    assert schedule.next_at == EASTER_MONDAY + dt.timedelta(weeks=1)
    assert schedules.sweep(schedule.next_at)["made"] == 1  # the next Monday is a working day


def test_move_makes_the_work_for_the_next_working_day(cast):
    _french_calendar(cast)
    schedule = _schedule(cast, on_holiday="move")
    _at(schedule, EASTER_MONDAY)
    assert schedules.sweep(EASTER_MONDAY)["made"] == 0  # opened at the moved time instead
    assert schedules.sweep(EASTER_MONDAY + dt.timedelta(days=1))["made"] == 1
    schedule.refresh_from_db()
    assert schedule.last_slot == EASTER_MONDAY + dt.timedelta(days=1)  # Tuesday 08:00
    assert "2026-04-07 08:00" in schedule.last_ticket.subject
    assert schedule.next_at == EASTER_MONDAY + dt.timedelta(weeks=1)


def test_move_is_bounded_to_fourteen_days_then_skips(cast):
    closed = [(dt.date(2026, 4, 7) + dt.timedelta(days=n)).isoformat() for n in range(20)]
    _french_calendar(cast, closed_dates=closed)
    schedule = _schedule(cast, on_holiday="move")
    _at(schedule, EASTER_MONDAY)
    assert schedules.sweep(EASTER_MONDAY)["made"] == 0
    schedule.refresh_from_db()
    assert schedule.last_ticket_id is None


def test_ignore_keeps_the_occurrence_on_a_holiday(cast):
    _french_calendar(cast)
    schedule = _schedule(cast, on_holiday="ignore")
    _at(schedule, EASTER_MONDAY)
    assert schedules.sweep(EASTER_MONDAY)["made"] == 1


def test_catching_up_over_a_holiday_makes_one_item_for_the_latest_working_occurrence(cast):
    _french_calendar(cast)
    schedule = _schedule(cast, on_holiday="skip")
    _at(schedule, EASTER_MONDAY - dt.timedelta(weeks=2))  # the clock was down three Mondays
    assert schedules.sweep(EASTER_MONDAY + dt.timedelta(hours=1))["made"] == 1
    assert schedules.sweep(EASTER_MONDAY + dt.timedelta(hours=2))["made"] == 0
    schedule.refresh_from_db()
    assert schedule.last_slot == EASTER_MONDAY - dt.timedelta(weeks=1)
    assert schedule.next_at == EASTER_MONDAY + dt.timedelta(weeks=1)
    assert Ticket.objects.filter(pk=schedule.last_ticket_id).count() == 1


def test_an_unknown_holiday_choice_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        _schedule(cast, on_holiday="sometimes")
    assert _fields(error) == {"on_holiday"}


def test_the_api_takes_site_asset_and_holiday_choice_and_refuses_another_clients(cast, api_as):
    api = api_as(cast.partner)
    body = {
        "client": cast.acme.pk,
        "name": "Server backups",
        "rule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=18",
        "starts_at": "2026-01-01T00:00:00Z",
        "site": cast.acme_site.pk,
        "asset": cast.globex_laptop.pk,
        "on_holiday": "move",
    }
    assert_refused(send(api, "post", f"{API}/maintenance-schedules", body), "asset")
    assert_refused(
        send(api, "post", f"{API}/maintenance-schedules", body | {"on_holiday": "later"}),
        "on_holiday",
    )
    assert not Schedule.objects.exists()
    made = send(api, "post", f"{API}/maintenance-schedules", body | {"asset": cast.acme_server.pk})
    assert made.status_code == 201, made.content
    shown = made.json()
    assert (shown["site_id"], shown["asset_id"], shown["on_holiday"]) == (
        cast.acme_site.pk,
        cast.acme_server.pk,
        "move",
    )
    url = f"{API}/maintenance-schedules/{shown['id']}"
    assert_refused(send(api, "patch", url, {"site": cast.globex_site.pk}), "site")
    cleared = send(api, "patch", url, {"asset": None, "on_holiday": "skip"})
    assert (cleared.json()["asset_id"], cleared.json()["on_holiday"]) == (None, "skip")


def test_the_schedule_page_has_site_asset_and_holiday_fields(cast, web_as):
    web = web_as(cast.partner)
    page = web.get("/playbooks/schedules/").content.decode()
    assert 'name="site"' in page and 'name="asset"' in page and 'name="on_holiday"' in page
    form = {
        "client": cast.acme.pk,
        "name": "Patching",
        "rule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=8",
        "starts_at": "2026-01-05T08:00",
        "lead_minutes": "60",
        "makes": "ticket",
        "site": cast.globex_site.pk,
        "on_holiday": "move",
        "is_active": "on",
    }
    refused = web.post("/playbooks/schedules/", form)
    assert refused.status_code == 400 and not Schedule.objects.exists()
    assert 'class="field invalid"' in refused.content.decode()
    saved = web.post("/playbooks/schedules/", form | {"site": cast.acme_site.pk})
    assert saved.status_code == 302
    schedule = Schedule.objects.get()
    assert (schedule.site, schedule.on_holiday) == (cast.acme_site, "move")
