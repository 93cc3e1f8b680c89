"""The settings pages of service levels: calendars with their hours, holidays and closed days,
policies with targets and escalation steps, and the policy of each client.

The network reads them; only a practice admin changes them (a 403 to the rest of the network,
as the API answers), everyone else finds nothing (404). A refused form writes nothing."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from support.pages import NETWORK, ROLES
from thirdway.audit.models import AuditRecord
from thirdway.sla.models import (
    BusinessCalendar,
    ClientServiceLevel,
    EscalationStep,
    SlaPolicy,
    SlaTarget,
)

PASSWORD = "correct-horse-battery-staple"


def _signed_in(cast, role: str) -> HttpClient:
    http = HttpClient()
    http.force_login(getattr(cast, role))
    return http


def _pages(office, standard) -> list[str]:
    step = standard.steps.first()
    return [
        "/settings/",
        "/settings/sla/calendars/",
        f"/settings/sla/calendars/{office.pk}/",
        "/settings/sla/policies/",
        f"/settings/sla/policies/{standard.pk}/",
        "/settings/sla/clients/",
        "/settings/rotas/",
    ] + ([f"/settings/sla/policies/{standard.pk}/steps/{step.pk}/"] if step else [])


def _state() -> list:
    return [
        list(model.objects.values())
        for model in (BusinessCalendar, SlaPolicy, SlaTarget, EscalationStep, ClientServiceLevel)
    ] + [AuditRecord.objects.count()]


def test_the_network_reads_the_settings_and_nobody_else_finds_them(cast, office, standard, role):
    http = _signed_in(cast, role)
    for url in _pages(office, standard)[:-1]:
        response = http.get(url)
        expected = 200 if role in NETWORK else 404
        assert response.status_code == expected, (url, response.status_code)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_a_practice_admin_writes_service_levels(cast, office, standard, role):
    http = _signed_in(cast, role)
    step = standard.steps.first()
    before = _state()
    writes = [
        (
            "/settings/sla/calendars/new/",
            {"name": "X", "time_zone": "UTC", "hours_mon": "09:00-17:00"},
        ),
        (
            f"/settings/sla/calendars/{office.pk}/",
            {"name": "X", "time_zone": "UTC", "hours_mon": "09:00-17:00"},
        ),
        (f"/settings/sla/calendars/{office.pk}/closed/", {"closed_date": "2031-01-02"}),
        (f"/settings/sla/calendars/{office.pk}/closed/2026-12-24/remove/", {}),
        ("/settings/sla/policies/new/", {"name": "X", "calendar": office.pk}),
        (f"/settings/sla/policies/{standard.pk}/", {"name": "X", "calendar": office.pk}),
        (
            f"/settings/sla/policies/{standard.pk}/steps/",
            {"clock": "resolution", "percent": 50, "actions": "warn_assignee"},
        ),
        (
            f"/settings/sla/policies/{standard.pk}/steps/{step.pk}/",
            {"clock": "resolution", "percent": 50, "actions": "warn_assignee"},
        ),
        (f"/settings/sla/policies/{standard.pk}/steps/{step.pk}/remove/", {}),
        ("/settings/sla/clients/", {"client": cast.acme.pk, "policy": standard.pk}),
    ]
    for url, data in writes:
        response = http.post(url, data)
        assert response.status_code == (403 if role in NETWORK else 404), (
            url,
            response.status_code,
        )
    assert _state() == before
    # The admin-only forms are not even offered to the rest of the network.
    if role in NETWORK:
        for url in ("/settings/sla/calendars/new/", "/settings/sla/policies/new/"):
            assert http.get(url).status_code == 403
        page = http.get(f"/settings/sla/policies/{standard.pk}/").content.decode()
        assert 'id="policy-form"' not in page and 'id="step-form"' not in page


def test_an_admin_sees_every_page_with_its_forms(cast, office, standard):
    http = _signed_in(cast, "admin")
    for url in [
        *_pages(office, standard),
        "/settings/sla/calendars/new/",
        "/settings/sla/policies/new/",
        "/settings/clock-failures/",
    ]:
        assert http.get(url).status_code == 200, url


def _queries(http, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200
    return len(captured)


def test_the_lists_read_a_fixed_number_of_queries(cast, office, standard):
    from sla.conftest import STEPS, TARGETS
    from thirdway.audit.models import Source
    from thirdway.sla import services

    http = _signed_in(cast, "admin")
    urls = ["/settings/sla/calendars/", "/settings/sla/policies/", "/settings/sla/clients/"]
    before = [_queries(http, url) for url in urls]
    for n in range(4):
        calendar = services.create_calendar(
            cast.admin,
            name=f"Office {n}",
            time_zone="UTC",
            weekly_hours={"mon": [["09:00", "17:00"]]},
            source=Source.CLI,
        )
        policy = services.create_policy(
            cast.admin,
            name=f"Policy {n}",
            calendar=calendar,
            targets=TARGETS,
            steps=STEPS,
            source=Source.CLI,
        )
        services.set_client_service_level(
            cast.admin,
            cast.acme if n % 2 else cast.globex,
            policy=policy,
            calendar=calendar,
            source=Source.CLI,
        )
    assert [_queries(http, url) for url in urls] == before


@pytest.mark.parametrize(
    "country, region, field, message",
    [
        ("XX", "", "holiday_country", "No public holidays are known for &#x27;XX&#x27;."),
        ("FR", "QC", "holiday_region", "FR has no region &#x27;QC&#x27;."),
        ("", "QC", "holiday_region", "A region needs a country."),
    ],
)
def test_a_holiday_area_is_refused_as_the_api_refuses_it(
    cast, office, country, region, field, message
):
    http = _signed_in(cast, "admin")
    before = _state()
    data = {
        "name": "Paris office",
        "time_zone": "Europe/Paris",
        "hours_mon": "09:00-17:00",
        "holiday_country": country,
        "holiday_region": region,
    }
    response = http.post(f"/settings/sla/calendars/{office.pk}/", data)
    assert response.status_code == 400
    page = response.content.decode()
    invalid = page.split(f'name="{field}"', 1)[1].split("</div>", 1)[0]
    assert message in invalid
    assert _state() == before
