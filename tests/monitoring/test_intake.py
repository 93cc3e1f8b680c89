"""Alertmanager webhooks in: a client's token, one check per group key and fingerprint."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from support.api import API, assert_refused
from thirdway.audit.models import Source
from thirdway.monitoring import intake
from thirdway.monitoring.models import Alert, Check, CheckEvent, IntakeDelivery, IntakeToken
from thirdway.tickets.models import Ticket

URL = API + "/monitoring/alertmanager"


def body(status="firing", fingerprint="a1b2c3", group='{}:{alertname="DiskFull"}', **extra):
    alert = {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": "nas1:9100", "severity": "critical"},
        "annotations": {"summary": "Disk /srv is 97% full"},
        "startsAt": "2026-12-06T05:00:00Z",
        "endsAt": "2026-12-06T05:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.acme.example/graph",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "thirdway",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.acme.example",
        "alerts": [alert],
        **extra,
    }


@pytest.fixture
def token(cast):
    return intake.issue_token(cast.partner, cast.acme, "Prometheus", source=Source.CLI)[1]


def post(secret, payload):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return HttpClient(headers=headers).post(
        URL, data=json.dumps(payload), content_type="application/json"
    )


def test_a_firing_alert_opens_a_ticket_and_repeats_are_counted(cast, token):
    answer = post(token, body())
    assert answer.status_code == 200, answer.content
    check = Check.objects.get(kind="alertmanager")
    assert check.client == cast.acme and check.name == "DiskFull on nas1:9100"
    assert check.status == "critical" and check.last_output == "Disk /srv is 97% full"
    post(token, body())  # Alertmanager's repeat_interval sends it again
    alert = Alert.objects.get(check_obj=check)
    assert alert.repeats == 1 and Ticket.objects.count() == 1
    post(token, body(status="resolved"))
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert IntakeDelivery.objects.filter(client=cast.acme).count() == 3


def test_alerts_are_told_apart_by_group_key_and_fingerprint(cast, token):
    post(token, body(fingerprint="one"))
    post(token, body(fingerprint="two"))
    post(token, body(fingerprint="one", group='{}:{alertname="Other"}'))
    assert Check.objects.filter(kind="alertmanager").count() == 3


def test_a_warning_severity_is_a_warning(cast, token):
    payload = body()
    payload["alerts"][0]["labels"]["severity"] = "warning"
    post(token, payload)
    assert Check.objects.get(kind="alertmanager").status == "warning"


def test_truncated_alerts_are_said_on_the_timeline(cast, token):
    post(token, body(truncatedAlerts=12))
    texts = CheckEvent.objects.values_list("text", flat=True)
    assert any("left 12 alert(s)" in text for text in texts)


@pytest.mark.parametrize("secret", sorted({"", "twam_wrong", "tw_not-an-intake-token"}))
def test_a_missing_or_wrong_token_is_401(cast, secret):
    assert post(secret, body()).status_code == 401
    assert not IntakeDelivery.objects.exists()


def test_a_revoked_token_is_401(cast, token):
    intake.revoke_token(cast.admin, IntakeToken.objects.get(), source=Source.CLI)
    assert post(token, body()).status_code == 401


def test_a_malformed_body_is_400_naming_the_field_and_nothing_stored(cast, token):
    payload = body()
    payload["alerts"][0]["status"] = "burning"
    assert_refused(post(token, payload), "alerts.0.status")
    assert_refused(post(token, {**body(), "alerts": [body()["alerts"][0]] * 1001}), "alerts")
    assert not IntakeDelivery.objects.exists() and not Check.objects.exists()


def test_tokens_are_managed_by_the_api_and_hidden_from_others(cast, api_as, token):
    partner = api_as(cast.partner)
    made = partner.post(
        API + "/monitoring/intake-tokens",
        data=json.dumps({"client": cast.acme.pk, "name": "Second"}),
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["secret"].startswith("twam_")
    first = IntakeToken.objects.get(name="Prometheus")
    for role in sorted({"other_partner", "client_user", "other_client_admin", "outsider"}):
        client = api_as(getattr(cast, role))
        assert client.delete(API + f"/monitoring/intake-tokens/{first.pk}").status_code == 404
        assert client.get(API + "/monitoring/intake-tokens").json()["items"] == []
    revoked = partner.delete(API + f"/monitoring/intake-tokens/{first.pk}")
    assert revoked.json()["revoked_at"] is not None


def test_the_token_page_shows_a_new_secret_once(cast, web_as, page):
    browser = web_as(cast.partner)
    url = f"/monitoring/clients/{cast.acme.pk}/alertmanager/"
    html = page(browser.post(url, {"name": "Prometheus"}))
    secret = IntakeToken.objects.get()
    assert 'id="new-secret">twam_' in html
    assert secret.prefix in page(browser.get(url))
    assert 'id="new-secret"' not in page(browser.get(url))
    for role in sorted({"other_partner", "client_user", "other_client_admin"}):
        other = web_as(getattr(cast, role))
        assert other.get(url).status_code == 404
        assert other.post(f"/monitoring/alertmanager-tokens/{secret.pk}/revoke/").status_code == 404


def test_a_delivery_interrupted_before_processing_is_processed_by_the_sweep(cast, token):
    import datetime as dt

    from django.utils import timezone

    from thirdway.monitoring import evaluation

    stored = IntakeDelivery.objects.create(
        client=cast.acme, token=IntakeToken.objects.get(), group_key="g", body=body()
    )
    assert evaluation.sweep()["replayed"] == 0  # too recent: it may still be processing
    later = timezone.now() + dt.timedelta(minutes=3)
    assert evaluation.sweep(later)["replayed"] == 1
    stored.refresh_from_db()
    assert stored.processed_at is not None
    assert Alert.objects.filter(check_obj__kind="alertmanager", status="open").count() == 1
    assert evaluation.sweep(later)["replayed"] == 0
