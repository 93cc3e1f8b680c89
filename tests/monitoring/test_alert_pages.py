"""The alert list and the alert page: who sees which alerts (deny by default), the filters and
what they refuse, and an alert's timeline, ticket and incident."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.monitoring import services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert

from .test_alerting import add
from .test_incidents import group, result

CRIT, OK = Status.CRITICAL, Status.OK
MINUTE = dt.timedelta(minutes=1)
ALERT_LINK = re.compile(r'href="/monitoring/alerts/(\d+)/"')


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


@pytest.fixture
def alerts(cast, t0) -> dict[str, Alert]:
    """Acme's mail server down (open, with a ticket) and its web site down then back
    (resolved); Globex's VPN down."""
    mail = add(cast, name="Mail", site_id=cast.acme_site.pk)
    web = add(cast, name="Web", target="web.acme.example", asset_id=cast.acme_server.pk)
    result(mail, CRIT, t0, output="No connection within 10 s.")
    result(web, CRIT, t0 + MINUTE)
    result(web, OK, t0 + 5 * MINUTE)
    vpn = services.create_check(
        cast.admin,
        cast.globex,
        name="Globex VPN",
        kind="tcp",
        target="vpn.globex.example",
        port=443,
        max_attempts=1,
        source=Source.CLI,
    )
    result(vpn, CRIT, t0)
    return {
        "mail": Alert.objects.get(check_obj=mail),
        "web": Alert.objects.get(check_obj=web),
        "vpn": Alert.objects.get(check_obj=vpn),
    }


def listed(page) -> set[int]:
    return {int(number) for number in ALERT_LINK.findall(page.content.decode())}


SEES_ACME = {"admin", "desk", "partner", "client_admin"}
FOREIGN = {"other_partner", "other_client_admin"}
NO_MONITORING = {"client_user", "other_client_user", "outsider"}


@pytest.mark.parametrize("role", sorted(SEES_ACME | FOREIGN | NO_MONITORING | {"associate"}))
def test_the_list_shows_exactly_the_alerts_the_api_shows(cast, web_as, alerts, role):
    user = getattr(cast, role)
    page = web_as(user).get("/monitoring/alerts/")
    if role in NO_MONITORING:
        assert page.status_code == 404
        return
    assert page.status_code == 200
    expected = set(Alert.objects.for_user(user).values_list("pk", flat=True))
    assert listed(page) == expected
    acme = {alerts["mail"].pk, alerts["web"].pk}
    if role in SEES_ACME:
        assert acme <= expected
    if role in FOREIGN:
        assert not acme & expected
        assert "Mail" not in page.content.decode()


@pytest.mark.parametrize("role", sorted(FOREIGN | NO_MONITORING))
def test_an_alert_of_a_client_one_does_not_see_does_not_exist(cast, web_as, alerts, role):
    page = web_as(getattr(cast, role)).get(f"/monitoring/alerts/{alerts['mail'].pk}/")
    assert page.status_code == 404


@pytest.mark.parametrize("role", sorted(SEES_ACME))
def test_those_who_see_acme_open_its_alert(cast, web_as, alerts, role):
    page = web_as(getattr(cast, role)).get(f"/monitoring/alerts/{alerts['mail'].pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Alert #" in text and "Mail" in text and "Bakery" in text


def test_the_list_is_newest_first_and_filters_by_status(cast, web_as, alerts):
    client = web_as(cast.desk)
    everything = client.get("/monitoring/alerts/").content.decode()
    assert int(ALERT_LINK.findall(everything)[0]) == alerts["web"].pk  # a minute after the rest
    resolved = client.get("/monitoring/alerts/?status=resolved")
    assert listed(resolved) == {alerts["web"].pk}
    opened = client.get("/monitoring/alerts/?status=open")
    assert listed(opened) == {alerts["mail"].pk, alerts["vpn"].pk}


def test_the_list_filters_by_client_check_severity_incident_and_name(cast, web_as, alerts):
    client = web_as(cast.desk)
    by_client = client.get(f"/monitoring/alerts/?client={cast.globex.pk}")
    assert listed(by_client) == {alerts["vpn"].pk}
    by_check = client.get(f"/monitoring/alerts/?check={alerts['web'].check_obj_id}")
    assert listed(by_check) == {alerts["web"].pk}
    assert "Only the alerts of" in by_check.content.decode()
    by_name = client.get("/monitoring/alerts/?q=vpn")
    assert listed(by_name) == {alerts["vpn"].pk}
    assert listed(client.get("/monitoring/alerts/?severity=warning")) == set()
    assert len(listed(client.get("/monitoring/alerts/?severity=critical"))) == 3
    mail = alerts["mail"]
    assert mail.incident_id is not None
    by_incident = client.get(f"/monitoring/alerts/?incident={mail.incident_id}")
    assert listed(by_incident) == {mail.pk}


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=closed", "Status: Choose open, resolved or nothing (both)."),
        ("severity=ok", "Severity: Choose critical, warning, unknown or nothing (any)."),
        ("client=abc", "Client: Choose one of the clients in the list."),
        ("check=abc", "A check is given by its number."),
        ("check=0", "greater than or equal to 1"),
        ("check=99999999999", "less than or equal to 2147483647"),
        ("incident=x", "An incident is given by its number."),
        ("q=" + "x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_filter_is_a_clear_400_showing_no_alert(cast, web_as, alerts, query, message):
    page = web_as(cast.desk).get(f"/monitoring/alerts/?{query}")
    assert page.status_code == 400
    text = page.content.decode()
    assert message in text
    assert listed(page) == set()
    assert "correct the filters above" in text


def test_a_client_or_check_one_does_not_see_is_refused_like_an_unknown_one(cast, web_as, alerts):
    client = web_as(cast.other_partner)
    foreign_client = client.get(f"/monitoring/alerts/?client={cast.acme.pk}")
    assert foreign_client.status_code == 400
    assert "Choose one of the clients in the list." in foreign_client.content.decode()
    foreign_check = client.get(f"/monitoring/alerts/?check={alerts['mail'].check_obj_id}")
    assert foreign_check.status_code == 400
    text = foreign_check.content.decode()
    assert "There is no check of yours with this number." in text
    assert "Mail" not in text


def test_the_desk_gets_a_ticket_link_and_the_clients_admin_only_the_number(cast, web_as, alerts):
    ticket = alerts["mail"].ticket
    assert ticket is not None
    link = f"/tickets/{ticket.number}/"
    for path in ("/monitoring/alerts/", f"/monitoring/alerts/{alerts['mail'].pk}/"):
        assert link in web_as(cast.desk).get(path).content.decode()
        own = web_as(cast.client_admin).get(path).content.decode()
        assert ticket.number in own and link not in own


def test_the_alert_page_tells_its_story(cast, web_as, alerts):
    web = alerts["web"]
    text = web_as(cast.desk).get(f"/monitoring/alerts/{web.pk}/").content.decode()
    timeline = text[text.index('id="alert-timeline"') :]
    assert timeline.index("Alert opened") < timeline.index("Recovered")
    assert "srv1" in text or cast.acme_server.name in text
    assert f"?check={web.check_obj_id}" in text
    assert "Held back" not in text


def test_what_held_the_alert_back_shows_on_its_page(cast, web_as, t0):
    check = add(cast, name="Router", target="router.acme.example")
    services.create_window(
        cast.admin,
        cast.acme,
        name="Firmware upgrade",
        kind="one_off",
        starts_at=t0 - MINUTE,
        ends_at=t0 + 10 * MINUTE,
        source=Source.CLI,
    )
    result(check, CRIT, t0)
    assert not Alert.objects.filter(check_obj=check).exists()
    result(check, CRIT, t0 + 15 * MINUTE)
    alert = Alert.objects.get(check_obj=check)
    text = web_as(cast.partner).get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    held = text[text.index('id="alert-held"') : text.index('id="alert-timeline"')]
    assert "in maintenance (Firmware upgrade)" in held


def test_the_other_alerts_of_its_incident_are_linked(cast, web_as, t0):
    group(cast, by="site", window=600)
    mail = add(cast, name="Mail", site_id=cast.acme_site.pk)
    files = add(cast, name="Files", target="files.acme.example", site_id=cast.acme_site.pk)
    result(mail, CRIT, t0)
    result(files, CRIT, t0 + MINUTE)
    first, second = Alert.objects.order_by("opened_at")
    assert first.incident_id == second.incident_id is not None
    text = web_as(cast.desk).get(f"/monitoring/alerts/{first.pk}/").content.decode()
    others = text[text.index('id="alert-incident"') :]
    assert f"/monitoring/alerts/{second.pk}/" in others and "Files" in others
    assert "Site: " in text


def test_the_check_page_and_the_navigation_lead_to_the_alerts(cast, web_as, alerts):
    client = web_as(cast.desk)
    check_page = client.get(f"/monitoring/checks/{alerts['mail'].check_obj_id}/")
    text = check_page.content.decode()
    assert f'href="/monitoring/alerts/?check={alerts["mail"].check_obj_id}"' in text
    assert f'href="/monitoring/alerts/{alerts["mail"].pk}/"' in text
    assert 'href="/monitoring/alerts/"' in client.get("/monitoring/").content.decode()


def test_the_list_costs_the_same_queries_for_few_alerts_or_many(cast, web_as, alerts, t0):
    client = web_as(cast.desk)
    client.get("/monitoring/alerts/")  # the session and caches warmed
    with CaptureQueriesContext(connection) as few:
        assert client.get("/monitoring/alerts/").status_code == 200
    for index in range(4):
        check = add(cast, name=f"Extra {index}", target=f"x{index}.acme.example")
        result(check, CRIT, t0 + (20 + index) * MINUTE)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/monitoring/alerts/")
    assert "Extra 3" in page.content.decode()
    assert len(many) == len(few)
