"""Feedback left in a real browser (refused without a score, kept with one), a step reopened,
and the improvement page comparing two versions; at desktop and phone sizes (screenshots kept
under PLAYBOOK_SHOTS when it is set)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from support.browser import DESKTOP, PHONE, fits, sign_in
from thirdway.audit.models import Source
from thirdway.playbooks import services
from thirdway.playbooks.models import RunFeedback, StepReopen

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def finished_run(cast, playbook, minutes: int):
    run = services.start_run(cast.partner, playbook, cast.acme, source=Source.CLI)
    for rs in run.steps.select_related("step").order_by("position"):
        evidence = "true" if rs.step.evidence == "checkbox" else "12"
        services.complete_step(cast.partner, rs, evidence=evidence, source=Source.CLI)
    count = run.steps.count()
    run.started_at = T0
    run.completed_at = T0 + dt.timedelta(minutes=minutes)
    run.save()
    for n, rs in enumerate(run.steps.order_by("position"), start=1):
        rs.completed_at = T0 + dt.timedelta(minutes=minutes * n // count)
        rs.save()
    return run


@pytest.mark.browser
def test_a_partner_leaves_feedback_reopens_a_step_and_compares_versions(cast, live_server, browser):
    from playwright.sync_api import expect

    playbook = services.copy_builtin(
        cast.admin, "user_onboarding", practice_id=cast.security.pk, source=Source.CLI
    )
    finished_run(cast, playbook, 200)
    services.update_step(cast.partner, playbook, 1, {"expected_minutes": 20}, source=Source.CLI)
    services.publish(cast.partner, playbook, source=Source.CLI)
    run = finished_run(cast, playbook, 80)
    url = live_server.url
    shots = os.environ.get("PLAYBOOK_SHOTS")
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, url, "paula", f"/playbooks/runs/{run.pk}/")
    feedback = page.locator("#feedback")
    feedback.get_by_role("button", name="Leave feedback").click()
    expect(page.locator("#feedback .field.invalid .error")).to_contain_text("required")
    assert not RunFeedback.objects.exists()
    page.get_by_label("Score").select_option("4")
    page.get_by_label("Comment").fill("Clear steps; the mailbox step took long.")
    page.get_by_role("button", name="Leave feedback").click()
    expect(page.locator(".pb-feedback-item")).to_contain_text("4/5")
    expect(page.get_by_role("button", name="Leave feedback")).to_have_count(0)
    assert RunFeedback.objects.get().comment == "Clear steps; the mailbox step took long."
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/feedback-desktop.png", full_page=True)

    page.goto(f"{url}/playbooks/{playbook.pk}/")
    expect(page.locator(".pb-metrics tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Improvement: compare versions").click()
    table = page.locator("#pb-compare")
    expect(table.locator("thead")).to_contain_text("Version 1")
    expect(table.locator("thead")).to_contain_text("Version 2")
    median = table.locator("tr", has_text="Time to complete, median")
    expect(median).to_contain_text("200.0")
    expect(median).to_contain_text("-120.0 (better)")
    expect(median).to_have_class("pb-better")
    assert fits(page)
    if shots:
        page.screenshot(path=f"{shots}/improvement-desktop.png", full_page=True)
    page.goto(f"{url}/playbooks/{playbook.pk}/improvement/?before=7&after=2")
    expect(page.get_by_role("alert")).to_contain_text("Choose published versions: 1, 2")
    # Rework: a step reopened makes the run open again.
    page.goto(f"{url}/playbooks/runs/{run.pk}/")
    page.locator("#step-2 summary").click()
    page.get_by_label("Why reopen step 2").fill("The account was made in the wrong group")
    page.get_by_role("button", name="Reopen step 2").click()
    expect(page.locator("#step-2 .pb-complete")).to_be_visible()
    assert StepReopen.objects.get().reason == "The account was made in the wrong group"
    run.refresh_from_db()
    assert run.completed_at is None
    page.set_viewport_size(PHONE)
    for path, name in (
        (f"/playbooks/{playbook.pk}/improvement/", "improvement"),
        (f"/playbooks/runs/{run.pk}/", "feedback"),
        (f"/playbooks/{playbook.pk}/", "template-metrics"),
    ):
        page.goto(url + path)
        assert fits(page), path
        if shots:
            page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
