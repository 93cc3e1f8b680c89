"""Fixed-fee projects and the after-hours multiplier in a real browser: the milestones form
refused (nothing written) then accepted, a milestone marked done, the settings' multiplier and
a start time booked; the pages at desktop and phone size."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from support.browser import DESKTOP, sign_in
from thirdway.audit.models import Source
from thirdway.billing import services
from thirdway.billing.models import BillingSettings, Milestone, TimeEntry

from .test_terms_browser import SHOTS_DIRECTORY, shoot


def project(cast):
    made = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="project",
        name="Acme website",
        starts_on=dt.date(2026, 1, 1),
        fixed_price=Decimal("10000.00"),
        budget_minutes=80 * 60,
        source=Source.CLI,
    )
    line = services.add_contract_line(
        cast.admin,
        made,
        description="Project time",
        unit="hour",
        price=Decimal("125.00"),
        source=Source.CLI,
    )
    services.record_time(
        cast.admin,
        partner=cast.partner_record,
        contract_line=line,
        worked_on=dt.date(2026, 11, 10),
        worked_minutes=600,
        source=Source.CLI,
    )
    return made


@pytest.mark.browser
def test_the_admin_plans_milestones_and_marks_one_done(cast, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    made = project(cast)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/contracts/{made.pk}/")
    expect(page.locator("#project-worked")).to_contain_text("10.00 h")
    expect(page.locator("#project-rate")).to_contain_text("1000.00 / h")

    page.get_by_role("link", name="Edit milestones").click()
    page.get_by_label("Milestone 1", exact=True).fill("Design")
    page.get_by_label("Percent 1").fill("30")
    page.get_by_label("Due on 1").fill("2026-11-15")
    page.get_by_label("Milestone 2", exact=True).fill("Build and launch")
    page.get_by_label("Amount 2").fill("6999.99")
    page.get_by_label("Due on 2").fill("2027-01-15")
    page.get_by_role("button", name="Save the milestones").click()
    expect(page.locator("#milestone-problems")).to_contain_text("add up to 9999.99")
    shoot(page, shots, "milestones-invalid")
    assert not Milestone.objects.exists()

    page.get_by_label("Amount 2").fill("7000")
    page.get_by_role("button", name="Save the milestones").click()
    expect(page.locator("#milestones")).to_contain_text("3000.00")
    page.locator("#milestones").get_by_role("button", name="Mark done").first.click()
    expect(page.locator("#milestones")).to_contain_text("billed by the next run")
    shoot(page, shots, "project")
    assert Milestone.objects.filter(done_at__isnull=False).count() == 1


@pytest.mark.browser
def test_the_admin_sets_the_multiplier_and_a_partner_books_a_start_time(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    hours = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="time_materials",
        name="Acme hours",
        starts_on=dt.date(2026, 1, 1),
        source=Source.CLI,
    )
    services.add_contract_line(
        cast.admin,
        hours,
        description="Partner time",
        unit="hour",
        price=Decimal("120.00"),
        source=Source.CLI,
    )
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/billing/settings/{cast.security.pk}/")
    page.get_by_label("After-hours multiplier").fill("5.5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="After-hours multiplier")).to_be_visible()
    shoot(page, shots, "settings-multiplier-invalid")
    page.get_by_label("After-hours multiplier").fill("1.5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert BillingSettings.objects.get(practice=cast.security).after_hours_multiplier == Decimal(
        "1.50"
    )
    page.goto(f"{live_server.url}/billing/contracts/{hours.pk}/")
    expect(page.locator("#lines")).to_contain_text("after hours ×1.5 (practice)")

    page.goto(f"{live_server.url}/billing/time/new/")
    page.get_by_label("Contract line").select_option(index=1)
    page.get_by_label("Partner").select_option(label=str(cast.partner_record))
    page.get_by_label("Worked on").fill("2026-11-14")
    page.get_by_label("Start time").fill("21:30")
    page.get_by_label("Worked minutes").fill("60")
    shoot(page, shots, "time-start")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Time booked.")).to_be_visible()
    assert TimeEntry.objects.get().start_time == dt.time(21, 30)


@pytest.mark.browser
def test_the_lead_partner_un_marks_a_milestone_until_it_is_billed(
    cast, live_server, browser, tmp_path
):
    """Valid: a done milestone un-marked from the contract page.  Invalid: the page still
    offers it after a run billed it and the invoice was approved; the press is refused,
    saying a credit note is the way, and the milestone stays done."""
    from playwright.sync_api import expect

    from thirdway.billing import invoicing, issuing, projects
    from thirdway.billing.models import InvoiceLine

    from .weeks import approve_weeks

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    made = project(cast)
    design, launch = projects.set_milestones(
        cast.admin,
        made,
        [
            {
                "name": "Design",
                "percent": Decimal("30"),
                "amount": None,
                "due_on": dt.date(2026, 11, 15),
            },
            {
                "name": "Launch",
                "amount": Decimal("7000.00"),
                "percent": None,
                "due_on": dt.date(2027, 1, 15),
            },
        ],
        source=Source.CLI,
    )
    for milestone in (design, launch):
        projects.mark_done(cast.admin, milestone, source=Source.CLI)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", f"/billing/contracts/{made.pk}/")
    page.get_by_role("button", name="Un-mark Design").click()
    expect(page.get_by_text("Design is no longer done")).to_be_visible()
    expect(page.locator(f"#milestone-{design.pk}")).to_contain_text("planned")
    shoot(page, shots, "milestone-unmarked")
    design.refresh_from_db()
    assert design.done_at is None

    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, dt.date(2026, 11, 1), source=Source.CLI)
    line = InvoiceLine.objects.get(claim=launch.claim)
    invoice = issuing.approve_invoice(cast.admin, line.invoice, source=Source.CLI)
    page.get_by_role("button", name="Un-mark Launch").click()  # the page from before the run
    expect(page.locator(".flash.error")).to_contain_text("credit note")
    expect(page.locator(f"#milestone-{launch.pk}")).to_contain_text(invoice.number)
    expect(page.get_by_role("button", name="Un-mark Launch")).to_have_count(0)
    shoot(page, shots, "milestone-unmark-refused")
    launch.refresh_from_db()
    assert launch.done_at is not None


@pytest.mark.browser
def test_a_block_lines_multiplier_and_its_burn_down_on_the_client_page(
    cast, live_server, browser, tmp_path
):
    """The line form on a block-hours line: 5.5 is refused beside the field, 2 is kept; a
    Saturday hour then burns 2 h and the client page says so."""
    from playwright.sync_api import expect

    from thirdway.sla import services as sla

    shots = os.environ.get(SHOTS_DIRECTORY, str(tmp_path))
    office = sla.create_calendar(
        cast.admin,
        name="Lyon office",
        time_zone="Europe/Paris",
        weekly_hours={d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="FR",
        source=Source.CLI,
    )
    sla.set_client_service_level(
        cast.admin, cast.acme, policy=None, calendar=office, source=Source.CLI
    )
    block = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="block_hours",
        name="Ten hours",
        starts_on=dt.date(2026, 1, 1),
        block_minutes=600,
        source=Source.CLI,
    )
    support = services.add_contract_line(
        cast.admin,
        block,
        description="Support",
        unit="hour",
        price=Decimal("90.00"),
        source=Source.CLI,
    )
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(
        page, live_server.url, "admin", f"/billing/contracts/{block.pk}/lines/{support.pk}/edit/"
    )
    page.get_by_label("After-hours multiplier").fill("5.5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid", has_text="After-hours multiplier")).to_be_visible()
    shoot(page, shots, "block-line-multiplier-invalid")
    support.refresh_from_db()
    assert support.after_hours_multiplier is None
    page.get_by_label("After-hours multiplier").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#lines")).to_contain_text("after hours ×2")
    services.record_time(
        cast.admin,
        partner=cast.partner_record,
        contract_line=support,
        worked_on=dt.date(2026, 11, 14),
        start_time=dt.time(9, 0),
        worked_minutes=60,
        source=Source.CLI,
    )
    page.goto(f"{live_server.url}/clients/{cast.acme.pk}/")
    burn = page.locator(f"#burn-down-{block.pk}")
    expect(burn).to_contain_text("Used 2.00 h")
    expect(burn).to_contain_text("burns the block at ×2 (1 h at night uses 2 h); 1.00 h")
    shoot(page, shots, "block-after-hours")
