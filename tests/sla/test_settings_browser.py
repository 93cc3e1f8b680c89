"""The service-level settings pages in a real chromium: each form refused with its error next
to the field and nothing written, then accepted; screens at desktop and phone widths."""

from __future__ import annotations

import pytest

from support.screens import shoot
from thirdway.audit.models import AuditRecord
from thirdway.sla.models import BusinessCalendar, ClientServiceLevel, EscalationStep, SlaPolicy

pytestmark = pytest.mark.browser


def _admin_page(browser, live_server, path: str):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", path)
    expect(page).to_have_url(f"{live_server.url}{path}")
    return page


def test_an_admin_makes_a_calendar_with_hours_per_day_and_regional_holidays(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import settled

    page = _admin_page(browser, live_server, "/settings/sla/calendars/new/")
    form = page.locator("#calendar-form")
    form.locator("input[name=name]").fill("Lyon office")
    form.locator("input[name=time_zone]").fill("Europe/Paris")
    form.locator("input[name=hours_mon]").fill("09:00-12:00, 13:00-17:00")
    form.locator("input[name=hours_tue]").fill("09:00-12:00, 11:00-17:00")
    form.get_by_role("button", name="Create calendar").click()
    error = page.locator("#calendar-form .field.invalid:has(input[name=hours_tue]) .error")
    expect(error).to_contain_text("overlapping intervals on tue: 09:00-12:00 and 11:00-17:00")
    expect(error).to_contain_text("Allowed: weekdays mon..sun")
    expect(page.locator("input[name=hours_mon]")).to_have_value("09:00-12:00, 13:00-17:00")
    assert not BusinessCalendar.objects.exists()
    shoot(page, "calendar-new-refused", tmp_path)

    page.locator("input[name=hours_tue]").fill("09:00-17:00")
    page.locator("input[name=time_zone]").fill("Europe/Lyon")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.locator(".field.invalid:has(input[name=time_zone]) .error")).to_contain_text(
        "Allowed: an IANA time zone name such as Europe/Paris."
    )
    assert not BusinessCalendar.objects.exists()

    # Picking a country offers its regions.
    page.locator("input[name=time_zone]").fill("Europe/Paris")
    page.locator("select[name=holiday_country]").select_option("FR")
    settled(page)
    expect(page.locator("select[name=holiday_region] option[value='57']")).to_have_count(1)
    page.locator("select[name=holiday_region]").select_option("57")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("Calendar Lyon office created.")).to_be_visible()
    calendar = BusinessCalendar.objects.get()
    assert calendar.weekly_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
    }
    assert (calendar.holiday_country, calendar.holiday_region) == ("FR", "57")
    assert AuditRecord.objects.filter(action="sla.calendar.create", source="web").count() == 1
    shoot(page, "calendar-detail", tmp_path)


def test_a_week_without_hours_is_refused_on_the_hours(cast, office, live_server, browser):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, f"/settings/sla/calendars/{office.pk}/")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.locator(f"input[name=hours_{day}]").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#weekly-hours > .error")).to_contain_text("Allowed: weekdays mon..sun")
    office.refresh_from_db()
    assert office.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_an_admin_adds_and_removes_closed_days(cast, office, live_server, browser):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, f"/settings/sla/calendars/{office.pk}/")
    form = page.locator("#closed-day-form")
    form.locator("input[name=closed_date]").fill("2026-12-24")
    form.get_by_role("button", name="Add closed day").click()
    expect(page.locator("#closed-day-form .field.invalid .error")).to_have_text(
        "2026-12-24 is already a closed day."
    )
    page.locator("#closed-day-form input[name=closed_date]").fill("2026-12-31")
    page.locator("#closed-day-form").get_by_role("button", name="Add closed day").click()
    expect(page.get_by_text("2026-12-31 added to the closed days.")).to_be_visible()
    office.refresh_from_db()
    assert office.closed_dates == ["2026-12-24", "2026-12-31"]
    page.get_by_role("button", name="Remove 2026-12-24").click()
    expect(page.get_by_text("2026-12-24 is no longer a closed day.")).to_be_visible()
    office.refresh_from_db()
    assert office.closed_dates == ["2026-12-31"]


def test_an_admin_makes_a_policy_with_targets_per_priority(
    cast, office, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, "/settings/sla/policies/new/")
    form = page.locator("#policy-form")
    form.locator("input[name=name]").fill("Gold")
    form.locator("select[name=calendar]").select_option(label="Paris office")
    form.locator("input[name='targets.1.first_response']").fill("0")
    form.locator("input[name='targets.1.resolution']").fill("240")
    form.get_by_role("button", name="Create policy").click()
    error = page.locator(".field.invalid:has(input[name='targets.1.first_response']) .error")
    expect(error).to_have_text(
        "0 is not a number of business minutes. Allowed: a whole number of minutes from 1 to "
        "525600, or null for no target."
    )
    expect(page.locator("input[name='targets.1.resolution']")).to_have_value("240")
    assert not SlaPolicy.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="sla.policy").exists()
    shoot(page, "policy-new-refused", tmp_path)

    page.locator("input[name='targets.1.first_response']").fill("30")
    page.locator("input[name='targets.4.resolution']").fill("2400")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_text("Policy Gold created.")).to_be_visible()
    policy = SlaPolicy.objects.get()
    targets = {t.priority: t for t in policy.targets.all()}
    assert (targets[1].first_response_minutes, targets[1].resolution_minutes) == (30, 240)
    assert targets[2].first_response_minutes is None
    assert targets[4].resolution_minutes == 2400

    # An edit refused on a target changes neither the policy nor its targets.
    page.locator("input[name=name]").fill("Gold plus")
    page.locator("input[name='targets.2.next_response']").fill("600000")
    page.get_by_role("button", name="Save").first.click()
    expect(
        page.locator(".field.invalid:has(input[name='targets.2.next_response']) .error")
    ).to_contain_text("600000 is not a number of business minutes.")
    policy.refresh_from_db()
    assert policy.name == "Gold"
    page.locator("input[name='targets.2.next_response']").fill("600")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("Policy saved.")).to_be_visible()
    policy.refresh_from_db()
    assert policy.name == "Gold plus"
    assert policy.targets.get(priority=2).next_response_minutes == 600


def test_an_admin_adds_edits_and_removes_escalation_steps(
    cast, standard, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    page = _admin_page(browser, live_server, f"/settings/sla/policies/{standard.pk}/")
    before = list(EscalationStep.objects.values_list("clock", "percent", "actions"))
    form = page.locator("#step-form")
    form.locator("select[name=clock]").select_option("first_response")
    form.locator("input[name=percent]").fill("50")
    form.get_by_role("button", name="Add step").click()
    expect(page.locator("#step-form .field.invalid .error")).to_contain_text(
        "Unknown or missing action(s) []. Allowed: warn_assignee, notify_lead"
    )
    page.locator("#step-form input[name=percent]").fill("150")
    page.locator("#step-form").get_by_label("Warn the assignee").check()
    page.locator("#step-form").get_by_role("button", name="Add step").click()
    expect(
        page.locator("#step-form .field.invalid:has(input[name=percent]) .error")
    ).to_contain_text(
        "Allowed: steps in increasing order of percent, each from 1 to 100 (100 = the breach)."
    )
    assert list(EscalationStep.objects.values_list("clock", "percent", "actions")) == before
    shoot(page, "policy-steps-refused", tmp_path)

    page.locator("#step-form input[name=percent]").fill("50")
    page.locator("#step-form").get_by_role("button", name="Add step").click()
    expect(page.get_by_text("Escalation step added.")).to_be_visible()
    step = standard.steps.get(clock="first_response", percent=50)
    assert step.actions == ["warn_assignee"]

    page.locator(f"#step-{step.pk}").get_by_role("link", name="Edit").click()
    page.locator("#step-form input[name=percent]").fill("75")
    page.locator("#step-form").get_by_role("button", name="Save step").click()
    expect(page.locator("#step-form .field.invalid .error")).to_have_text(
        "This clock already has a step at 75 %."
    )
    page.locator("#step-form input[name=percent]").fill("60")
    page.locator("#step-form").get_by_label("Notify the practice lead").check()
    shoot(page, "step-edit", tmp_path)
    page.locator("#step-form").get_by_role("button", name="Save step").click()
    expect(page.get_by_text("Escalation step saved.")).to_be_visible()
    step = standard.steps.get(clock="first_response", percent=60)
    assert step.actions == ["warn_assignee", "notify_lead"]
    page.locator(f"#step-{step.pk}").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Escalation step removed.")).to_be_visible()
    assert list(EscalationStep.objects.values_list("clock", "percent", "actions")) == before
    shoot(page, "policy-detail", tmp_path)


def test_an_admin_gives_a_client_its_policy(cast, office, standard, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    from thirdway.sla import services

    page = _admin_page(browser, live_server, "/settings/sla/clients/")
    form = page.locator("#client-level-form")
    form.locator("select[name=policy]").select_option(label="Standard")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#client-level-form .field.invalid .error")).to_have_text(
        "This field is required."
    )
    assert not ClientServiceLevel.objects.exists()
    page.locator("#client-level-form select[name=client]").select_option(label="Globex Dental")
    page.locator("#client-level-form select[name=calendar]").select_option(label="Paris office")
    page.locator("#client-level-form").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Service level of Globex Dental saved.")).to_be_visible()
    level = ClientServiceLevel.objects.get()
    assert (level.client, level.policy, level.calendar) == (cast.globex, standard, office)
    assert services.policy_for_client(cast.globex.pk) == (standard, office)
    shoot(page, "client-levels", tmp_path)
    page.goto(f"{live_server.url}/settings/sla/policies/{standard.pk}/")
    expect(page.locator("#policy-clients")).to_contain_text("Globex Dental")


def test_a_partner_reads_the_settings_without_forms(
    cast, office, standard, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "paula", "/settings/")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_role("link", name="Failed clock evaluations")).to_have_count(0)
    shoot(page, "settings-index-partner", tmp_path)
    page.get_by_role("link", name="Business calendars").click()
    expect(page.locator("#calendars")).to_contain_text("Paris office")
    expect(page.get_by_role("link", name="New calendar")).to_have_count(0)
    shoot(page, "calendar-list-partner", tmp_path)
    page.get_by_role("link", name="Paris office").click()
    expect(page.locator("#hours")).to_contain_text("09:00-12:00, 13:00-17:00")
    expect(page.locator("#closed-days")).to_contain_text("2026-12-24")
    expect(page.locator("form.form")).to_have_count(0)
    shoot(page, "calendar-detail-partner", tmp_path)
    page.get_by_role("link", name="SLA policies").click()
    shoot(page, "policy-list-partner", tmp_path)
    page.get_by_role("link", name="Standard").click()
    expect(page.locator("#target-table")).to_contain_text("P1")
    expect(page.locator("#steps")).to_contain_text("Notify the practice lead")
    expect(page.locator("form.form")).to_have_count(0)
    shoot(page, "policy-detail-partner", tmp_path)
