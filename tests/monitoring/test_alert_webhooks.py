"""Outgoing webhooks in either format, for ticket and alert events alike: a Standard Webhooks
delivery is checked by the standardwebhooks package's own verifier, on a real HTTP receiver."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardVerifier
from standardwebhooks.webhooks import WebhookVerificationError

from thirdway.audit.models import Source
from thirdway.monitoring.engine import Status
from thirdway.tickets import services as tickets
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks import outbound
from thirdway.tickets.webhooks import services as webhooks
from thirdway.tickets.webhooks.tasks import deliver_webhook

from .test_alerting import add, feed

OK, CRIT = Status.OK, Status.CRITICAL


@pytest.fixture
def receiver():
    """An HTTP receiver on loopback that keeps the headers and body of every POST."""
    seen: list[tuple[dict[str, str], bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    server.seen = seen
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()


def _hook(cast, receiver, fmt, events=()) -> Webhook:
    hook = webhooks.create_webhook(
        cast.admin,
        source=Source.CLI,
        name=f"Receiver {fmt}",
        url=receiver.url,
        events=list(events),
        format=fmt,
    )
    Webhook.objects.filter(pk=hook.pk).update(allow_private_target=True)
    hook.refresh_from_db()
    return hook


def _send_all() -> list[str]:
    pending = WebhookDelivery.objects.filter(status="pending").order_by("pk")
    return [deliver_webhook.call(pk) for pk in pending.values_list("pk", flat=True)]


def _json(method, url, payload):
    return method(url, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)


def test_alert_events_reach_a_standard_webhook_and_verify_with_the_standard_library(
    cast, receiver, t0
):
    hook = _hook(cast, receiver, "standard", events=["alert.opened", "alert.resolved"])
    assert hook.secret.startswith("whsec_")
    check = add(cast, name="Mail server")
    feed(check, t0, OK, CRIT, OK)
    assert _send_all() == ["delivered", "delivered"]
    verifier = StandardVerifier(hook.secret)
    kinds = []
    for headers, body in receiver.seen:
        envelope = verifier.verify(body, headers)  # raises if anything does not match
        assert headers["webhook-id"].startswith("msg_")
        assert "x-thirdway-signature" not in headers
        kinds.append(envelope["type"])
        alert = envelope["data"]["alert"]
        assert (alert["client_id"], alert["check"]["name"]) == (cast.acme.pk, "Mail server")
    assert kinds == ["alert.opened", "alert.resolved"]
    assert json.loads(receiver.seen[1][1])["data"]["alert"]["status"] == "resolved"


def test_a_standard_delivery_fails_the_verifier_when_the_body_or_secret_differs(cast, receiver):
    hook = _hook(cast, receiver, "standard")
    tickets.create_ticket(
        cast.client_user, cast.acme, subject="Printer", body_text="jammed", source="web"
    )
    assert _send_all() == ["delivered"]
    headers, body = receiver.seen[0]
    assert StandardVerifier(hook.secret).verify(body, headers)["type"] == "ticket.created"
    with pytest.raises(WebhookVerificationError):
        StandardVerifier(hook.secret).verify(body.replace(b"Printer", b"Printor"), headers)
    with pytest.raises(WebhookVerificationError):
        StandardVerifier(outbound.standard_secret()).verify(body, headers)


def test_the_thirdway_format_still_signs_with_its_own_header(cast, receiver, t0):
    hook = _hook(cast, receiver, "thirdway", events=["alert.opened"])
    feed(add(cast), t0, OK, CRIT)
    assert _send_all() == ["delivered"]
    headers, body = receiver.seen[0]
    assert outbound.verify(body, headers["x-thirdway-signature"], hook.secret)
    assert headers["x-thirdway-event"] == "alert.opened"
    assert "webhook-signature" not in headers


def test_a_webhook_of_another_client_hears_no_alert_of_this_one(cast, receiver, t0):
    hook = _hook(cast, receiver, "standard")
    webhooks.update_webhook(cast.admin, hook, {"client": cast.globex.pk}, source=Source.CLI)
    feed(add(cast), t0, OK, CRIT)
    assert not WebhookDelivery.objects.filter(webhook=hook).exists()


def test_switching_an_old_secret_to_standard_gives_a_new_secret(cast, receiver, api_as):
    hook = _hook(cast, receiver, "thirdway")
    Webhook.objects.filter(pk=hook.pk).update(secret="whsec_" + "-_" * 20)
    client = api_as(cast.admin)
    answer = _json(client.patch, f"/api/v1/webhooks/{hook.pk}", {"format": "standard"})
    assert answer.status_code == 200, answer.content
    fresh = answer.json()["secret"]
    assert fresh.startswith("whsec_") and outbound.standard_key(fresh) is not None
    hook.refresh_from_db()
    assert (hook.format, hook.secret) == ("standard", fresh)
    again = _json(client.patch, f"/api/v1/webhooks/{hook.pk}", {"name": "Renamed"})
    assert again.json()["secret"] is None  # a new secret is shown once, never again


def test_a_format_outside_the_two_is_a_400_naming_the_field(cast, receiver, api_as):
    hook = _hook(cast, receiver, "thirdway")
    client = api_as(cast.admin)
    answer = _json(client.patch, f"/api/v1/webhooks/{hook.pk}", {"format": "svix"})
    assert answer.status_code == 400
    assert "format" in answer.content.decode()
    hook.refresh_from_db()
    assert hook.format == "thirdway"
    made = _json(client.post, "/api/v1/webhooks", {"name": "x", "url": receiver.url, "format": "x"})
    assert made.status_code == 400 and "format" in made.content.decode()
    assert Webhook.objects.count() == 1
