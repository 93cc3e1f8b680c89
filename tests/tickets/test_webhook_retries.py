"""Webhook deliveries: claimed for a lease, retried on the clock's sweep, never lost."""

from __future__ import annotations

import datetime as dt
import http.server
import threading

import pytest
from django.utils import timezone

from thirdway.tickets import services
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks.tasks import BACKOFF, deliver_webhook, due_deliveries


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 500
    received: list[bytes] = []

    def do_POST(self):
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Answer.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def hook(cast, receiver):
    return Webhook.objects.create(
        name="Local",
        url=f"http://127.0.0.1:{receiver.server_port}/hook",
        secret="s" * 32,
        allow_private_target=True,
        created_by=cast.admin,
    )


def _delivery(cast, hook) -> WebhookDelivery:
    services.create_ticket(
        cast.client_user, cast.acme, subject="Printer", body_text="jammed", source="web"
    )
    return WebhookDelivery.objects.get(webhook=hook, event="ticket.created")


def test_a_failed_attempt_waits_for_its_backoff_then_the_sweep_retries_it(cast, hook):
    _Answer.status = 500
    delivery = _delivery(cast, hook)
    assert deliver_webhook.call(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    wait = delivery.next_attempt_at - timezone.now()
    assert BACKOFF[0] - dt.timedelta(seconds=5) < wait <= BACKOFF[0]
    assert delivery not in due_deliveries()
    assert delivery in due_deliveries(timezone.now() + BACKOFF[0])
    _Answer.status = 204
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver_webhook.call(delivery.pk) == "delivered"
    assert len(_Answer.received) == 2


def test_an_attempt_in_flight_is_not_started_twice(cast, hook):
    _Answer.status = 204
    delivery = _delivery(cast, hook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=1)
    )
    assert "not due" in deliver_webhook.call(delivery.pk)
    assert _Answer.received == []


def test_a_delivery_whose_enqueue_was_lost_is_picked_up_by_the_sweep(cast, hook):
    delivery = _delivery(cast, hook)
    assert delivery not in due_deliveries()
    assert delivery in due_deliveries(timezone.now() + dt.timedelta(minutes=2))


def test_after_the_last_backoff_the_delivery_fails_for_good(cast, hook):
    _Answer.status = 503
    delivery = _delivery(cast, hook)
    for _ in range(len(BACKOFF) + 1):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        deliver_webhook.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.attempts == len(BACKOFF) + 1
    assert deliver_webhook.call(delivery.pk) == "nothing to do"


def test_a_webhook_switched_off_before_its_delivery_sends_nothing(cast, hook):
    _Answer.status = 500
    delivery = _delivery(cast, hook)
    assert deliver_webhook.call(delivery.pk) == "retrying"
    hook.is_active = False
    hook.save()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert deliver_webhook.call(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "deactivated" in delivery.last_error
    assert len(_Answer.received) == 1  # the first attempt only
