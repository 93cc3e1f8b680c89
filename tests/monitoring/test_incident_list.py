"""The incident list: the desk's network-wide page and each client's, the API list, and who
sees which incidents (deny by default)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.api import API, send
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Incident

from .test_alerting import add
from .test_incidents import group, result

CRIT, OK = Status.CRITICAL, Status.OK
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


@pytest.fixture
def grouped(cast, t0) -> Incident:
    """Two of Acme's checks down within the window: one incident, one ticket."""
    group(cast, by="site", window=600)
    mail = add(cast, name="Mail", site_id=cast.acme_site.pk)
    web = add(cast, name="Web", target="web.acme.example", site_id=cast.acme_site.pk)
    result(mail, CRIT, t0)
    result(web, CRIT, t0 + MINUTE)
    return Incident.objects.get()


@pytest.fixture
def globex_incident(cast, t0) -> Incident:
    from thirdway.audit.models import Source
    from thirdway.monitoring import services

    check = services.create_check(
        cast.admin,
        cast.globex,
        name="Globex VPN",
        kind="tcp",
        target="vpn.globex.example",
        port=443,
        max_attempts=1,
        source=Source.CLI,
    )
    result(check, CRIT, t0)
    return Incident.objects.get(client=cast.globex)


SEES_ACME = {"admin", "desk", "partner", "client_admin"}
SEES_NOTHING = {"other_partner", "other_client_admin", "other_client_user", "client_user"}


@pytest.mark.parametrize("role", sorted(SEES_ACME | SEES_NOTHING | {"associate", "outsider"}))
def test_the_api_lists_exactly_the_incidents_of_the_clients_one_sees(
    cast, api_as, grouped, globex_incident, role
):
    user = getattr(cast, role)
    expected = {
        incident.pk
        for incident in (grouped, globex_incident)
        if Incident.objects.for_user(user).filter(pk=incident.pk).exists()
    }
    client = api_as(user)
    listed = send(client, "get", API + "/monitoring/incidents").json()["items"]
    assert {item["id"] for item in listed} == expected
    if role in SEES_ACME:
        assert grouped.pk in expected
    if role in SEES_NOTHING | {"outsider"}:
        assert grouped.pk not in expected
    one = send(client, "get", API + f"/monitoring/incidents/{grouped.pk}")
    assert one.status_code == (200 if grouped.pk in expected else 404)


def test_an_incident_is_listed_with_its_alerts_and_ticket(cast, api_as, grouped):
    client = api_as(cast.desk)
    items = send(client, "get", API + f"/monitoring/incidents?client={cast.acme.pk}").json()
    (item,) = items["items"]
    assert item["group_key"] == f"site:{cast.acme_site.pk}"
    assert [alert["check_name"] for alert in item["alerts"]] == ["Mail", "Web"]
    assert item["ticket_number"] == grouped.ticket.number
    assert item["status"] == "open"
    closed = send(client, "get", API + "/monitoring/incidents?status=resolved").json()
    assert closed["items"] == []
    bad = send(client, "get", API + "/monitoring/incidents?status=closed")
    assert bad.status_code == 400 and "status" in bad.content.decode()


@pytest.mark.parametrize(
    "role", ["client_admin", "client_user", "other_client_admin", "other_client_user", "outsider"]
)
def test_the_network_wide_page_is_the_networks_only(cast, web_as, grouped, role):
    assert web_as(getattr(cast, role)).get("/monitoring/incidents/").status_code == 404


def test_a_partner_of_other_clients_sees_none_of_acmes_incidents(cast, web_as, grouped):
    page = web_as(cast.other_partner).get("/monitoring/incidents/")
    assert page.status_code == 200
    assert f"#{grouped.pk}" not in page.content.decode()


@pytest.mark.parametrize("role", sorted(SEES_NOTHING | {"outsider"}))
def test_another_clients_incident_page_does_not_exist(cast, web_as, grouped, role):
    page = web_as(getattr(cast, role)).get(f"/monitoring/clients/{cast.acme.pk}/incidents/")
    assert page.status_code == 404


def test_the_clients_admin_sees_their_incidents_without_a_ticket_link(cast, web_as, grouped):
    html = web_as(cast.client_admin).get(f"/monitoring/clients/{cast.acme.pk}/incidents/")
    text = html.content.decode()
    assert "Mail" in text and "Web" in text and grouped.ticket.number in text
    assert f"/tickets/{grouped.ticket.number}" not in text


def test_the_desk_list_costs_the_same_queries_for_one_incident_or_many(
    cast, web_as, grouped, globex_incident, t0
):
    client = web_as(cast.desk)
    client.get("/monitoring/incidents/")  # the session and caches warmed
    with CaptureQueriesContext(connection) as few:
        assert client.get("/monitoring/incidents/").status_code == 200
    for index in range(3):
        check = add(cast, name=f"Extra {index}", target=f"x{index}.acme.example")
        result(check, CRIT, t0 + (20 + index * 15) * MINUTE)
    assert Incident.objects.count() >= 5
    with CaptureQueriesContext(connection) as many:
        page = client.get("/monitoring/incidents/")
    assert "Extra 2" in page.content.decode()
    assert len(many) == len(few)


def test_resolved_incidents_are_shown_when_asked(cast, web_as, grouped, t0):
    for alert in grouped.alerts.all():
        result(alert.check_obj, OK, t0 + 30 * MINUTE)
    grouped.refresh_from_db()
    assert grouped.status == "resolved"
    client = web_as(cast.desk)
    assert "No open incident." in client.get("/monitoring/incidents/").content.decode()
    shown = client.get("/monitoring/incidents/?status=resolved").content.decode()
    assert f"#{grouped.pk}" in shown and "recovered" in shown


@pytest.mark.browser
def test_the_desk_goes_from_the_board_to_the_incidents_in_the_browser(
    cast, live_server, browser, grouped, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, cast.desk.username, f"/monitoring/clients/{cast.acme.pk}/")
    page.get_by_role("link", name="Incidents: the alerts grouped on each ticket →").click()
    rows = page.locator("#incidents tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mail")
    expect(rows.first).to_contain_text("Web")
    expect(rows.first.get_by_role("link", name=grouped.ticket.number)).to_be_visible()
    page.screenshot(path=str(tmp_path / "incidents-client-1366.png"), full_page=True)
    page.goto(f"{live_server.url}/monitoring/incidents/?status=bogus")
    expect(page.locator("#incidents")).to_contain_text(cast.acme.name)  # unknown: open ones
    page.get_by_role("link", name="Resolved").click()
    expect(page.locator("#incidents")).to_contain_text("No resolved incident.")
    page.get_by_role("link", name="Open", exact=True).click()
    page.set_viewport_size(PHONE)
    expect(page.locator("#incidents tbody tr")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "incidents-390.png"), full_page=True)
    assert fits(page)
