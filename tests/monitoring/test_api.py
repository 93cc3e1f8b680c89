"""The monitoring API: checks, alerts, windows, alert rules and pings, and who sees what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.monitoring import evaluation, services
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Alert, Check, CheckResult, MaintenanceWindow


@dataclass
class Watched:
    check: Check
    heartbeat: Check
    window: MaintenanceWindow
    alert: Alert


@pytest.fixture
def watched(cast) -> Watched:
    check = services.create_check(
        cast.admin,
        cast.acme,
        name="Shop",
        kind="http",
        target="https://shop.acme.example/",
        max_attempts=1,
        source=Source.CLI,
    )
    heartbeat = services.create_check(
        cast.admin, cast.acme, name="Nightly backup", kind="heartbeat", source=Source.CLI
    )
    window = services.create_window(
        cast.admin,
        cast.acme,
        name="Patch Sunday",
        kind="weekly",
        weekdays=[6],
        start_time=dt.time(1),
        duration_minutes=180,
        source=Source.CLI,
    )
    evaluation.record_result(check.pk, Status.CRITICAL, output="HTTP 502")
    return Watched(check, heartbeat, window, Alert.objects.get(check_obj=check))


def urls(w: Watched) -> list[tuple[str, str]]:
    return [
        ("get", f"/monitoring/checks/{w.check.pk}"),
        ("patch", f"/monitoring/checks/{w.check.pk}"),
        ("delete", f"/monitoring/checks/{w.check.pk}"),
        ("get", f"/monitoring/checks/{w.check.pk}/results"),
        ("get", f"/monitoring/alerts/{w.alert.pk}"),
        ("get", f"/monitoring/windows/{w.window.pk}"),
        ("patch", f"/monitoring/windows/{w.window.pk}"),
        ("delete", f"/monitoring/windows/{w.window.pk}"),
        ("get", f"/monitoring/clients/{w.check.client_id}/alert-rule"),
        ("put", f"/monitoring/clients/{w.check.client_id}/alert-rule"),
    ]


OUTSIDERS = sorted(
    {"other_partner", "other_client_admin", "other_client_user", "client_user", "outsider"}
)


@pytest.mark.parametrize("role", OUTSIDERS)
def test_another_clients_people_get_404_on_every_endpoint(cast, api_as, watched, role):
    client = api_as(getattr(cast, role))
    for method, url in urls(watched):
        payload = {} if method in ("patch", "put") else None
        response = send(client, method, API + url, payload)
        assert response.status_code == 404, (role, method, url, response.content)
    for url in ("/monitoring/checks", "/monitoring/alerts", "/monitoring/windows"):
        assert send(client, "get", API + url).json()["items"] == []
    assert Check.objects.filter(pk=watched.check.pk).exists()


def test_the_clients_admin_reads_but_does_not_write(cast, api_as, watched):
    client = api_as(cast.client_admin)
    listed = send(client, "get", API + "/monitoring/checks").json()["items"]
    assert {item["id"] for item in listed} == {watched.check.pk, watched.heartbeat.pk}
    response = send(client, "patch", API + f"/monitoring/checks/{watched.check.pk}", {"name": "x"})
    assert response.status_code == 403


def test_a_check_is_created_and_a_bad_one_refused_naming_the_field(cast, api_as, watched):
    client = api_as(cast.partner)
    good = {
        "client": cast.acme.pk,
        "name": "Mail",
        "kind": "tcp",
        "target": "mx.acme.example",
        "port": 25,
    }
    response = send(client, "post", API + "/monitoring/checks", good)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    before = Check.objects.count()
    refused = send(client, "post", API + "/monitoring/checks", {**good, "port": None})
    assert_refused(refused, "port")
    refused = send(client, "post", API + "/monitoring/checks", {**good, "port": 70000})
    assert_refused(refused, "port")
    refused = send(client, "post", API + "/monitoring/checks", {**good, "target": "127.0.0.1"})
    assert_refused(refused, "target")
    refused = send(client, "post", API + "/monitoring/checks", {**good, "client": cast.globex.pk})
    assert_refused(refused, "client")
    assert Check.objects.count() == before


def test_only_a_practice_admin_allows_a_private_target(cast, api_as, watched):
    body = {
        "client": cast.acme.pk,
        "name": "NAS",
        "kind": "tcp",
        "target": "192.168.1.20",
        "port": 445,
        "allow_private_target": True,
    }
    assert send(api_as(cast.partner), "post", API + "/monitoring/checks", body).status_code == 403
    assert send(api_as(cast.admin), "post", API + "/monitoring/checks", body).status_code == 201


def test_patch_pauses_and_delete_removes(cast, api_as, watched):
    client = api_as(cast.partner)
    url = API + f"/monitoring/checks/{watched.check.pk}"
    assert send(client, "patch", url, {"is_paused": True}).json()["is_paused"] is True
    assert send(client, "delete", url).status_code == 204
    assert not Check.objects.filter(pk=watched.check.pk).exists()


def test_alerts_and_results_are_listed(cast, api_as, watched):
    client = api_as(cast.desk)
    alerts = send(client, "get", API + "/monitoring/alerts?status=open").json()["items"]
    assert [a["id"] for a in alerts] == [watched.alert.pk]
    assert alerts[0]["ticket_number"] == watched.alert.ticket.number
    results = send(client, "get", API + f"/monitoring/checks/{watched.check.pk}/results")
    assert [r["output"] for r in results.json()["items"]] == ["HTTP 502"]


def test_windows_are_validated(cast, api_as, watched):
    client = api_as(cast.partner)
    url = API + "/monitoring/windows"
    bad = {
        "client": cast.acme.pk,
        "name": "x",
        "kind": "weekly",
        "weekdays": [9],
        "start_time": "01:00",
        "duration_minutes": 60,
    }
    assert_refused(send(client, "post", url, bad), "weekdays")
    once = {
        "client": cast.acme.pk,
        "name": "Move",
        "kind": "one_off",
        "starts_at": "2026-07-01T10:00:00Z",
        "ends_at": "2026-07-01T09:00:00Z",
    }
    assert_refused(send(client, "post", url, once), "ends_at")
    once["ends_at"] = "2026-07-01T12:00:00Z"
    assert send(client, "post", url, once).status_code == 201


def test_the_alert_rule_is_set_and_read(cast, api_as, watched):
    client = api_as(cast.partner)
    url = API + f"/monitoring/clients/{cast.acme.pk}/alert-rule"
    assert send(client, "get", url).json()["priority"] == 3
    answer = send(client, "put", url, {"priority": 1, "category": "Outage"})
    assert answer.json()["priority"] == 1
    assert_refused(send(client, "put", url, {"priority": 9}), "priority")


def test_pings_need_no_token_and_an_unknown_one_is_404(cast, watched):
    anonymous = HttpClient()
    token = watched.heartbeat.ping_token
    answer = anonymous.get(API + f"/monitoring/ping/{token}/")
    assert answer.status_code == 200 and answer.json() == {"ok": True, "status": "ok"}
    posted = anonymous.post(
        API + f"/monitoring/ping/{token}/fail", data=b"disk full", content_type="text/plain"
    )
    assert posted.json()["status"] == "critical"
    assert "disk full" in CheckResult.objects.filter(check_obj=watched.heartbeat).first().output
    assert anonymous.get(API + f"/monitoring/ping/{token}/start").status_code == 200
    assert anonymous.get(API + "/monitoring/ping/not-a-token/").status_code == 404
