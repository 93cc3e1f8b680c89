"""Fixed-fee projects: milestones that add up to the price, billed once each after they are
marked done; the project's time is tracked against its budget, never billed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from support.api import API, assert_refused, send
from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import invoicing, issuing, projects, services
from thirdway.billing.models import InvoiceLine, Milestone

from .conftest import contract, line
from .weeks import approve_weeks

D = Decimal
NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def project(cast):
    """Acme's website: 10,000.00 for a budget of 80 hours, time tracked at 125.00 an hour."""
    made = contract(
        cast,
        cast.acme,
        "project",
        "Acme website",
        fixed_price=D("10000.00"),
        budget_minutes=80 * 60,
    )
    line(cast, made, "Project time", "hour", "125.00")
    return made


def plan(cast, project, *items):
    return projects.set_milestones(cast.admin, project, list(items), source=Source.CLI)


def milestone(name, due, amount=None, percent=None, **extra):
    return {"name": name, "due_on": due, "amount": amount, "percent": percent, **extra}


def three(cast, project):
    """30 % (3,000.00) + 3,333.33 + 3,666.67 = 10,000.00."""
    return plan(
        cast,
        project,
        milestone("Design", dt.date(2026, 11, 15), percent=D("30")),
        milestone("Build", dt.date(2026, 12, 15), amount=D("3333.33")),
        milestone("Launch", dt.date(2027, 1, 15), amount=D("3666.67")),
    )


def run(cast, month=NOVEMBER):
    approve_weeks(cast)
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


def test_milestones_must_add_up_to_the_price_or_the_plan_is_refused_naming_amount(cast, project):
    """30 % = 3,000.00, 3,333.33 and 33.33 % = 3,333.00: 9,666.33, not 10,000.00."""
    with pytest.raises(ValidationError) as refused:
        plan(
            cast,
            project,
            milestone("Design", dt.date(2026, 11, 15), percent=D("30")),
            milestone("Build", dt.date(2026, 12, 15), amount=D("3333.33")),
            milestone("Launch", dt.date(2027, 1, 15), percent=D("33.33")),
        )
    assert "amount" in refused.value.message_dict
    assert "9666.33" in refused.value.message_dict["amount"][0]
    assert not Milestone.objects.exists()
    made = three(cast, project)
    assert [m.value for m in made] == [D("3000.00"), D("3333.33"), D("3666.67")]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (milestone("", dt.date(2026, 11, 15), amount=D("10000")), "name"),
        (milestone("Both", dt.date(2026, 11, 15), amount=D("1"), percent=D("1")), "amount"),
        (milestone("Neither", dt.date(2026, 11, 15)), "amount"),
        (milestone("Early", dt.date(2025, 12, 31), amount=D("10000")), "due_on"),
        (milestone("Too much", dt.date(2026, 11, 15), percent=D("100.01")), "percent"),
    ],
)
def test_a_bad_milestone_is_refused_naming_the_field_and_nothing_is_written(
    cast, project, item, field
):
    with pytest.raises(ValidationError) as refused:
        plan(cast, project, item)
    assert field in refused.value.message_dict
    assert not Milestone.objects.exists()


def test_only_a_project_has_milestones_and_it_needs_its_line_first(cast):
    hours = contract(cast, cast.acme, "time_materials", "Acme hours")
    with pytest.raises(ValidationError) as refused:
        plan(cast, hours, milestone("All", dt.date(2026, 11, 15), amount=D("1")))
    assert "kind" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        contract(cast, cast.globex, "project", "No price")
    assert "fixed_price" in refused.value.message_dict
    bare = contract(cast, cast.globex, "project", "Globex move", fixed_price=D("500"))
    with pytest.raises(ValidationError) as refused:
        plan(cast, bare, milestone("All", dt.date(2026, 11, 15), amount=D("500")))
    assert "lines" in refused.value.message_dict


def test_a_done_milestone_is_billed_once_by_the_next_run_and_never_again(cast, project):
    design, build, _ = three(cast, project)
    assert run(cast).lines_made == 0  # nothing done yet
    projects.mark_done(cast.admin, design, source=Source.CLI)
    made = run(cast)
    assert made.lines_made == 1
    billed = InvoiceLine.objects.get(claim=f"milestone:{design.pk}")
    assert (billed.description, billed.quantity, billed.unit_price, billed.net) == (
        "Acme website: Design",
        D("1.00"),
        D("3000.00"),
        D("3000.00"),
    )
    assert (billed.vat_category, billed.vat_rate) == ("S", D("20.00"))
    assert run(cast).lines_made == 0
    projects.mark_done(cast.partner, build, source=Source.CLI)  # the client's lead partner
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 1
    assert InvoiceLine.objects.filter(claim__startswith="milestone:").count() == 2


def test_marking_done_is_for_an_admin_or_the_lead_partner_and_happens_once(cast, project):
    design, *_ = three(cast, project)
    with pytest.raises(PermissionDenied):
        projects.mark_done(cast.associate, design, source=Source.CLI)
    with pytest.raises(PermissionDenied):
        projects.mark_done(cast.other_partner, design, source=Source.CLI)
    projects.mark_done(cast.partner, design, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        projects.mark_done(cast.admin, design, source=Source.CLI)
    assert "done_at" in refused.value.message_dict


def test_a_done_milestone_no_longer_changes_and_the_price_keeps_to_the_plan(cast, project):
    design, build, launch = three(cast, project)
    projects.mark_done(cast.admin, design, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        plan(
            cast,
            project,
            milestone("Build", dt.date(2026, 12, 15), amount=D("5000"), id=build.pk),
            milestone("Launch", dt.date(2027, 1, 15), amount=D("5000"), id=launch.pk),
        )
    assert "milestones" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.update_contract(
            cast.admin, project, {"fixed_price": D("12000.00")}, source=Source.CLI
        )
    assert "fixed_price" in refused.value.message_dict
    kept = plan(
        cast,
        project,
        milestone("Design", dt.date(2026, 11, 15), percent=D("30"), id=design.pk),
        milestone("Build and launch", dt.date(2027, 1, 15), amount=D("7000.00"), id=build.pk),
    )
    assert [(m.name, m.value) for m in kept] == [
        ("Design", D("3000.00")),
        ("Build and launch", D("7000.00")),
    ]
    assert not Milestone.objects.filter(pk=launch.pk).exists()


def test_the_projects_time_is_tracked_against_its_budget_and_never_billed(cast, project, book_time):
    """80 h budget; 50 h and a 10 h correction down to 4 h logged: 54 h = 67.5 % -> 68 %;
    effective rate 10,000.00 / 54 h = 185.185... -> 185.19 an hour (budgeted 125.00)."""
    project_line = project.lines.get()
    book_time(cast.admin, project_line, 600, partner=cast.partner_record, day=dt.date(2026, 11, 2))
    for day in (3, 4, 5, 6):
        book_time(
            cast.admin, project_line, 600, partner=cast.partner_record, day=dt.date(2026, 11, day)
        )
    entry = book_time(
        cast.admin, project_line, 600, partner=cast.partner_record, day=dt.date(2026, 11, 9)
    )
    services.correct_time(cast.admin, entry, {"worked_minutes": 240}, source=Source.CLI)
    three(cast, project)
    assert run(cast).lines_made == 0  # time is not billed
    found = projects.progress(project)
    assert (found.worked_hours, found.budget_hours, found.used_percent) == (
        D("54.00"),
        D("80.00"),
        68,
    )
    assert (found.effective_rate, found.budget_rate) == (D("185.19"), D("125.00"))
    assert found.billed == D("0.00")


def test_a_done_milestone_is_un_marked_until_invoiced_and_the_run_then_leaves_it(cast, project):
    """Un-marked before the run: the run bills nothing.  Marked again and billed on a draft:
    refused (take the line off first); taken off, un-marked.  Billed on an approved invoice:
    refused, the credit note is the way; nothing written by a refusal."""
    design, *_ = three(cast, project)
    projects.mark_done(cast.admin, design, source=Source.CLI)
    with pytest.raises(PermissionDenied):
        projects.unmark_done(cast.associate, design, source=Source.CLI)
    with pytest.raises(PermissionDenied):
        projects.unmark_done(cast.other_partner, design, source=Source.CLI)
    projects.unmark_done(cast.partner, design, source=Source.CLI)  # the client's lead partner
    design.refresh_from_db()
    assert (design.done_at, design.done_by) == (None, None)
    with pytest.raises(ValidationError) as refused:
        projects.unmark_done(cast.admin, design, source=Source.CLI)
    assert "not marked done" in refused.value.message_dict["done_at"][0]
    assert run(cast).lines_made == 0
    events = AuditRecord.objects.filter(action="project.milestone_undone")
    assert [(e.actor_id, list(e.changes)) for e in events.all()] == [(cast.partner.pk, ["Design"])]

    projects.mark_done(cast.admin, design, source=Source.CLI)
    assert run(cast).lines_made == 1
    billed = InvoiceLine.objects.select_related("invoice").get(claim=design.claim)
    with pytest.raises(ValidationError) as refused:
        projects.unmark_done(cast.admin, design, source=Source.CLI)
    assert "draft invoice of 2026-11" in refused.value.message_dict["done_at"][0]
    issuing.remove_invoice_line(cast.admin, billed, source=Source.CLI)
    projects.unmark_done(cast.admin, design, source=Source.CLI)
    assert run(cast).lines_made == 0

    projects.mark_done(cast.admin, design, source=Source.CLI)
    run(cast)
    billed = InvoiceLine.objects.select_related("invoice").get(claim=design.claim)
    invoice = issuing.approve_invoice(cast.admin, billed.invoice, source=Source.CLI)
    with pytest.raises(ValidationError) as refused:
        projects.unmark_done(cast.partner, design, source=Source.CLI)
    why = refused.value.message_dict["done_at"][0]
    assert invoice.number in why and "credit note" in why
    design.refresh_from_db()
    assert design.done_at is not None
    assert events.all().count() == 2  # the partner's and the admin's; a refusal wrote none


def test_the_api_un_marks_a_milestone_and_refuses_once_billed(cast, project, api_as):
    design, build, _ = three(cast, project)
    admin, partner = api_as(cast.admin), api_as(cast.partner)
    url = f"{API}/contracts/{project.pk}/milestones"
    assert_refused(send(admin, "DELETE", f"{url}/{design.pk}/done"), "done_at")
    projects.mark_done(cast.admin, design, source=Source.CLI)
    projects.mark_done(cast.admin, build, source=Source.CLI)
    assert send(api_as(cast.associate), "DELETE", f"{url}/{design.pk}/done").status_code == 403
    assert send(api_as(cast.other_partner), "DELETE", f"{url}/{design.pk}/done").status_code == 404
    undone = send(partner, "DELETE", f"{url}/{design.pk}/done")
    assert undone.status_code == 200, undone.content
    assert (undone.json()["state"], undone.json()["done_at"]) == ("planned", None)
    run(cast)
    issuing.approve_invoice(
        cast.admin, InvoiceLine.objects.get(claim=build.claim).invoice, source=Source.CLI
    )
    errors = assert_refused(send(admin, "DELETE", f"{url}/{build.pk}/done"), "done_at")
    assert "credit note" in errors[0]["problem"]
    read = send(admin, "GET", f"{API}/contracts/{project.pk}/project").json()
    assert [m["state"] for m in read["milestones"]] == ["planned", "billed", "planned"]


def test_the_api_plans_reads_and_marks_milestones_done(cast, project, api_as):
    admin, partner = api_as(cast.admin), api_as(cast.partner)
    payload = {
        "milestones": [
            {"name": "Design", "percent": "30", "due_on": "2026-11-15"},
            {"name": "Build", "amount": "7000.01", "due_on": "2026-12-15"},
        ]
    }
    url = f"{API}/contracts/{project.pk}/milestones"
    assert_refused(send(admin, "PUT", url, payload), "amount")
    assert not Milestone.objects.exists()
    assert send(partner, "PUT", url, payload).status_code == 403
    payload["milestones"][1]["amount"] = "7000.00"
    answer = send(admin, "PUT", url, payload)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [m["value"] for m in body["milestones"]] == ["3000.00", "7000.00"]
    first = body["milestones"][0]["id"]
    assert send(api_as(cast.associate), "POST", f"{url}/{first}/done").status_code == 403
    done = send(partner, "POST", f"{url}/{first}/done")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "done"
    run(cast)
    read = send(admin, "GET", f"{API}/contracts/{project.pk}/project").json()
    assert read["milestones"][0]["state"] == "billed"
    assert read["billed"] == "3000.00"
    assert read["budget_hours"] == "80.00"
    outsider = api_as(cast.other_partner)
    assert send(outsider, "GET", f"{API}/contracts/{project.pk}/project").status_code == 404


def test_a_percent_is_of_the_price_rounded_half_up_to_the_cent(cast):
    """999.99 x 50 % = 499.995 -> 500.00 (half up, not half to even); with 499.99: 999.99."""
    small = contract(cast, cast.globex, "project", "Globex audit", fixed_price=D("999.99"))
    line(cast, small, "Audit time", "hour", "100.00")
    made = plan(
        cast,
        small,
        milestone("Half", dt.date(2026, 11, 15), percent=D("50")),
        milestone("The rest", dt.date(2026, 12, 15), amount=D("499.99")),
    )
    assert [m.value for m in made] == [D("500.00"), D("499.99")]
