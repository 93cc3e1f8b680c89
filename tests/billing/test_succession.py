"""Succession: a leaving partner's clients, team seats, open tickets, rota seats, duties and
contracts' origination pass to successors on the effective date; a preview lists exactly what
moves; a plan leaving anything without an owner is refused; applying twice changes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from support.days import Days, resolved, today
from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import succession_apply
from thirdway.billing.models import Contract
from thirdway.billing.succession import check_plan, plan_from
from thirdway.billing.succession_models import Succession, SuccessionMove
from thirdway.clients import services as clients
from thirdway.network import services as network
from thirdway.network.models import RotaMember, RotaOverride
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Ticket


def field_of(error: ValidationError) -> str:
    return next(iter(error.value.error_dict))  # type: ignore[attr-defined]


@pytest.fixture
def world(cast, books):
    """Paula leads Acme (two contracts, one she originated) and is on call in a rota with a
    duty crossing the effective date; one Acme ticket is hers."""
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)
    ticket = tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Printer jam",
        body_text="Again.",
        practice_id=cast.security.pk,
        source=Source.CLI,
    )
    tickets.assign(cast.admin, ticket, cast.partner_record, source=Source.CLI)
    rota = network.create_rota(
        cast.admin,
        name="Security on call",
        practice=cast.security,
        kind="weekly",
        time_zone="Europe/Paris",
        handover_time=dt.time(9, 0),
        starts_on=today(),
        members=[cast.partner_record, cast.associate_record],
        source=Source.CLI,
    )
    # From the day before the effective date in the rota's zone: an hour before midnight in
    # UTC, "a day ago" is already after midnight in Paris.
    paris_today = dt.datetime.combine(today(), dt.time(0), tzinfo=ZoneInfo("Europe/Paris"))
    duty = network.add_override(
        cast.admin,
        rota,
        cast.partner_record,
        starts_at=paris_today - dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=10),
        source=Source.CLI,
    )
    clients.set_team(cast.admin, cast.globex, [cast.partner_record], source=Source.CLI)
    return {"ticket": ticket, "rota": rota, "duty": duty}


def data(cast, **extra) -> dict:
    values = {
        "leaver": cast.partner_record.pk,
        "successor": cast.other_partner_record.pk,
        "effective_on": today(),
        "clients": [(cast.acme.pk, cast.other_partner_record.pk)],
    }
    return values | extra


def saved(cast, **extra) -> Succession:
    return succession_apply.save_plan(cast.admin, plan_from(data(cast, **extra)), source=Source.CLI)


def test_the_preview_lists_exactly_what_moves(cast, books, world):
    moves = check_plan(plan_from(data(cast)))
    seen = {(m.kind, m.label, m.to_partner.name) for m in moves}
    oscar = "Oscar Other"
    assert seen == {
        ("lead", "Acme Bakery", oscar),
        ("team", "Globex Dental", oscar),
        ("ticket", str(world["ticket"]), oscar),
        ("rota", "Security on call", oscar),
        ("duty", next(m.label for m in moves if m.kind == "duty"), oscar),
        ("origination", "Acme managed (Acme Bakery)", oscar),
        ("origination", "Acme projects (Acme Bakery)", oscar),
    }
    assert not SuccessionMove.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clients": []}, "clients"),
        ({"clients": [(1, None)]}, "clients"),
        ({"successor": None}, "successor"),
        ({"effective_on": Days(-1)}, "effective_on"),
        ({"effective_on": Days(800)}, "effective_on"),
        ({"origination": "leaver_until"}, "origination_until"),
        ({"origination_until": Days(9)}, "origination_until"),
    ],
)
def test_a_plan_that_leaves_anything_without_an_owner_is_refused(cast, world, change, field):
    if change.get("clients") == [(1, None)]:
        change = {"clients": [(cast.acme.pk, None)]}
    with pytest.raises(ValidationError) as error:
        saved(cast, **resolved(change))
    assert field_of(error) == field
    assert not Succession.objects.exists()


def test_a_successor_who_is_not_an_active_partner_of_the_practice_is_refused(cast, world):
    network.remove_skill(
        cast.admin, cast.other_partner_record.skills.get(practice=cast.security), source="cli"
    )
    with pytest.raises(ValidationError) as error:
        saved(cast)
    assert field_of(error) in {"clients", "successor"}  # the rota and the contracts: Security
    assert "no skill in Security" in str(error.value)
    with pytest.raises(ValidationError) as error:
        saved(cast, successor=cast.associate_record.pk)
    assert field_of(error) == "successor"
    network.update_partner(
        cast.admin, cast.other_partner_record, {"is_active": False}, source=Source.CLI
    )
    with pytest.raises(ValidationError) as error:
        saved(cast, clients=[(cast.acme.pk, cast.other_partner_record.pk)])
    assert field_of(error) in {"clients", "successor"}


def test_applying_moves_everything_once_and_keeps_the_record(cast, books, world):
    plan = saved(cast)
    applied = succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    oscar, paula = cast.other_partner_record, cast.partner_record
    assert applied.state == "applied"
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == oscar
    assert list(cast.globex.team.all()) == [oscar]
    assert Ticket.objects.get(pk=world["ticket"].pk).assignee == oscar
    assert list(
        RotaMember.objects.filter(rota=world["rota"]).values_list("partner", "position")
    ) == [
        (oscar.pk, 0),
        (cast.associate_record.pk, 1),
    ]
    duties = RotaOverride.objects.filter(rota=world["rota"]).order_by("starts_at")
    assert [d.partner for d in duties] == [paula, oscar]
    assert duties[0].ends_at == duties[1].starts_at
    for contract in Contract.objects.filter(client=cast.acme):
        assert (contract.originator, contract.originated_on) == (oscar, today())
    assert Contract.objects.get(pk=books.globex_managed.pk).originator == oscar  # his own
    record = SuccessionMove.objects.filter(succession=plan)
    assert record.count() == 7
    assert {m.from_partner for m in record} == {paula}
    assert AuditRecord.objects.filter(action="succession.apply").count() == 1
    assert AuditRecord.objects.filter(action="ticket.assign").count() == 2

    before = AuditRecord.objects.count()
    again = succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    assert again.state == "applied"
    assert AuditRecord.objects.count() == before
    assert SuccessionMove.objects.count() == 7


def test_origination_may_stay_with_the_leaver_until_a_date(cast, books, world):
    until = today() + dt.timedelta(days=30)
    plan = saved(cast, origination="leaver_until", origination_until=until)
    succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    paula, oscar = cast.partner_record, cast.other_partner_record
    hours = Contract.objects.get(pk=books.hours.pk)
    assert hours.originator == paula  # pinned: the lead partner changed
    assert succession_apply.apply_due(until - dt.timedelta(days=1), source=Source.SYSTEM) == {
        "applied": 0,
        "passed": 0,
        "failed": 0,
    }
    assert succession_apply.apply_due(until, source=Source.SYSTEM)["passed"] == 2
    for contract in Contract.objects.filter(client=cast.acme):
        assert (contract.originator, contract.originated_on) == (oscar, until)
    assert succession_apply.apply_due(until, source=Source.SYSTEM)["passed"] == 0


def test_origination_may_stay_with_the_leaver(cast, books, world):
    plan = saved(cast, origination="leaver")
    succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    managed = Contract.objects.get(pk=books.managed.pk)
    assert (managed.originator, managed.originated_on) == (
        cast.partner_record,
        books.managed.originated_on,
    )
    assert Contract.objects.get(pk=books.hours.pk).originator == cast.partner_record


def test_a_plan_dated_ahead_is_scheduled_and_the_clock_applies_it_on_its_day(cast, world):
    day = today() + dt.timedelta(days=7)
    plan = saved(cast, effective_on=day)
    scheduled = succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    assert scheduled.state == "scheduled"
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == cast.partner_record
    assert (
        succession_apply.apply_due(day - dt.timedelta(days=1), source=Source.SYSTEM)["applied"] == 0
    )
    assert succession_apply.apply_due(day, source=Source.SYSTEM)["applied"] == 1
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == cast.other_partner_record
    assert Succession.objects.get(pk=plan.pk).state == "applied"


def test_the_clock_notes_why_a_plan_could_not_be_applied_and_moves_nothing(cast, world):
    day = today() + dt.timedelta(days=7)
    plan = saved(cast, effective_on=day)
    succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    network.update_partner(
        cast.admin, cast.other_partner_record, {"is_active": False}, source=Source.CLI
    )
    assert succession_apply.apply_due(day, source=Source.SYSTEM)["failed"] == 1
    plan.refresh_from_db()
    assert plan.state == "scheduled" and "cannot take over" in plan.problem
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == cast.partner_record


def test_a_leaver_has_one_open_plan_and_a_cancelled_plan_does_not_apply(cast, world):
    plan = saved(cast)
    with pytest.raises(ValidationError) as error:
        saved(cast)
    assert field_of(error) == "leaver"
    succession_apply.cancel_plan(cast.admin, plan, source=Source.WEB)
    with pytest.raises(ValidationError) as error:
        succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    assert field_of(error) == "state"
    assert saved(cast).state == "planned"


def test_a_joining_partner_brings_clients_with_origination_from_the_date(cast, books):
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)
    clients.update_client(cast.admin, cast.acme, {"lead_partner": None}, source=Source.CLI)
    day = today() + dt.timedelta(days=2)
    values = {
        "joining_partner": cast.other_partner_record.pk,
        "effective_on": day,
        "clients": [(cast.acme.pk, cast.other_partner_record.pk)],
    }
    plan = succession_apply.save_plan(cast.admin, plan_from(values), source=Source.CLI)
    succession_apply.apply_due(day, source=Source.SYSTEM)  # planned, not scheduled: nothing
    succession_apply.apply_succession(cast.admin, plan, source=Source.CLI, today=day)
    cast.acme.refresh_from_db()
    assert cast.acme.lead_partner == cast.other_partner_record
    for contract in Contract.objects.filter(client=cast.acme):
        assert (contract.originator, contract.originated_on) == (cast.other_partner_record, day)


def test_a_joining_partner_cannot_take_a_client_another_partner_leads(cast, books):
    values = {
        "joining_partner": cast.other_partner_record.pk,
        "effective_on": today(),
        "clients": [(cast.acme.pk, cast.other_partner_record.pk)],
    }
    with pytest.raises(ValidationError) as error:
        succession_apply.save_plan(cast.admin, plan_from(values), source=Source.CLI)
    assert field_of(error) == "clients"
    assert "led by Paula Partner" in str(error.value)


def test_the_clock_does_not_act_for_someone_no_longer_a_practice_admin(cast, world):
    from thirdway.accounts import services as accounts
    from thirdway.accounts.models import Role

    day = today() + dt.timedelta(days=7)
    plan = saved(cast)
    plan = succession_apply.cancel_plan(cast.admin, plan, source=Source.WEB)
    plan = saved(cast, effective_on=day)
    succession_apply.apply_succession(cast.admin, plan, source=Source.WEB)
    other = accounts.create_user(
        None, username="root2", email="r2@network.example", role=Role.PRACTICE_ADMIN,
        password="x-Very-long-pass-42", source=Source.CLI,
    )  # fmt: skip
    accounts.set_role(other, cast.admin, Role.NONE, source=Source.CLI)
    assert succession_apply.apply_due(day, source=Source.SYSTEM)["failed"] == 1
    plan.refresh_from_db()
    assert plan.state == "scheduled" and "no longer a practice admin" in plan.problem
