"""The list of failed clock evaluations: a practice admin's page with the ticket, the job, the
error and when; nobody else finds it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from support.screens import shoot
from thirdway.tickets import services
from thirdway.tickets.models import ClockFailure, ClockPause
from thirdway.tickets.sla_clocks import escalation


@pytest.fixture
def failed(cast, standard):
    """A ticket the sweep cannot evaluate (a pause that ends before it starts)."""
    ticket = services.create_ticket(
        cast.admin, cast.acme, subject="Till offline", body_text="It does not start.", source="web"
    )
    now = timezone.now()
    ClockPause.objects.create(
        ticket=ticket,
        reason="waiting_client",
        started_at=now - dt.timedelta(hours=1),
        ended_at=now - dt.timedelta(hours=2),
    )
    escalation.sweep(now)
    assert ClockFailure.objects.filter(ticket=ticket).exists()
    return ticket


def test_only_a_practice_admin_sees_the_failed_evaluations(cast, failed, role):
    http = HttpClient()
    http.force_login(getattr(cast, role))
    response = http.get("/settings/clock-failures/")
    if role != "admin":
        assert response.status_code == 404
        return
    page = response.content.decode()
    assert f'href="/tickets/{failed.number}/"' in page
    assert "sla.sweep" in page and "pause ends" in page
    assert "Failed clock evaluations" in page


def test_the_list_reads_a_fixed_number_of_queries(cast, failed, django_assert_max_num_queries):
    for _ in range(5):
        escalation.sweep(timezone.now())
    assert ClockFailure.objects.count() == 6
    http = HttpClient()
    http.force_login(cast.admin)
    with django_assert_max_num_queries(12):
        assert http.get("/settings/clock-failures/").status_code == 200


@pytest.mark.browser
def test_an_admin_goes_from_a_failure_to_its_ticket(cast, failed, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/")
    page.get_by_role("link", name="Failed clock evaluations").click()
    row = page.locator("#clock-failures tbody tr").first
    expect(row).to_contain_text("sla.sweep")
    expect(row).to_contain_text("pause ends")
    shoot(page, "clock-failures", tmp_path)
    row.get_by_role("link", name=failed.number).click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{failed.number}/")
