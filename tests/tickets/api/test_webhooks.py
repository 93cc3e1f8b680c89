"""Webhooks through the API: managed by practice admins only, the secret shown once, events
delivered signed to an allowed target, and a private target refused without the allowance."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks.outbound import verify

from .conftest import API, NOTE_WORD, ROLES, get, patch, post

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def receiver():
    """An HTTP server on 127.0.0.1 that records what it is sent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server, path="/hook") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def make_webhook(http, url, **extra):
    response = post(http, "/webhooks", {"name": "Ops board", "url": url, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_an_allowed_local_target_receives_a_signed_event_after_a_reply(
    cast, desk, api_as, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    admin = api_as(cast.admin)
    hook = make_webhook(
        admin, url_of(receiver), events=["ticket.replied"], allow_private_target=True
    )
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 40

    with django_capture_on_commit_callbacks(execute=True):
        reply = post(
            api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Fixed!"}
        )
    assert reply.status_code == 201

    [(path, headers, body)] = receiver.received
    assert path == "/hook"
    assert headers["X-Thirdway-Event"] == "ticket.replied"
    assert verify(body, headers["X-Thirdway-Signature"], hook["secret"])
    assert not verify(body, headers["X-Thirdway-Signature"], "whsec_not-the-secret")
    event = json.loads(body)
    assert event["ticket"]["number"] == desk.acme_bob.number
    assert event["article"] == {"id": reply.json()["id"], "kind": "reply", "body_text": "Fixed!"}
    deliveries = get(admin, f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert [
        (d["event"], d["status"], d["attempts"], d["last_status_code"]) for d in deliveries
    ] == [("ticket.replied", "delivered", 1, 204)]
    assert headers["X-Thirdway-Delivery"] == str(deliveries[0]["id"])


def test_without_the_allowance_a_local_target_is_refused_and_the_delivery_says_why(
    cast, desk, api_as, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    admin = api_as(cast.admin)
    hook = make_webhook(admin, url_of(receiver))
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Done"})
    assert receiver.received == []
    [delivery] = get(admin, f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert delivery["status"] in ("retrying", "failed")
    assert delivery["last_status_code"] is None
    assert "127.0.0.1 is a loopback address" in delivery["last_error"]
    assert "practice admin" in delivery["last_error"]


def test_an_internal_note_never_leaves_in_a_webhook(
    cast, desk, api_as, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    hook = make_webhook(api_as(cast.admin), url_of(receiver), allow_private_target=True)
    with django_capture_on_commit_callbacks(execute=True):
        post(
            api_as(cast.partner),
            f"/tickets/{desk.acme_bob.pk}/note",
            {"body_text": f"Price {NOTE_WORD}-99"},
        )
    [(_, headers, body)] = receiver.received
    assert headers["X-Thirdway-Event"] == "ticket.noted"
    assert "article" not in json.loads(body)
    assert NOTE_WORD.encode() not in body
    assert verify(body, headers["X-Thirdway-Signature"], hook["secret"])


def test_a_webhook_for_one_client_hears_nothing_of_the_others(
    cast, desk, api_as, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    make_webhook(
        api_as(cast.admin), url_of(receiver), client=cast.globex.pk, allow_private_target=True
    )
    partner = api_as(cast.partner)
    with django_capture_on_commit_callbacks(execute=True):
        post(partner, f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Acme"})
        post(partner, f"/tickets/{desk.globex_security.pk}/reply", {"body_text": "Globex"})
    assert [json.loads(body)["ticket"]["client_id"] for _, _, body in receiver.received] == [
        cast.globex.pk
    ]


class Redirector(BaseHTTPRequestHandler):
    """Answers every POST with a 307 to the server's ``location``."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts += 1
        self.send_response(307)
        self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    """An HTTP server on 127.0.0.1 that redirects every POST to its ``location``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    server.posts = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_allowance_covers_the_host_and_port_of_the_url_not_another_port(
    cast, desk, api_as, receiver, redirector, immediate_tasks, django_capture_on_commit_callbacks
):
    admin = api_as(cast.admin)
    redirector.location = url_of(receiver, "/other-port")
    hook = make_webhook(
        admin, url_of(redirector), events=["ticket.replied"], allow_private_target=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Hi"})

    assert redirector.posts == 1
    assert receiver.received == []
    [delivery] = get(admin, f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert delivery["status"] == "failed"  # refused, so not retried
    assert "127.0.0.1 is a loopback address" in delivery["last_error"]


def test_a_redirect_to_the_same_host_and_port_is_delivered(
    cast, desk, api_as, redirector, immediate_tasks, django_capture_on_commit_callbacks
):
    admin = api_as(cast.admin)
    redirector.location = "/again"  # the same server, until the redirects run out
    hook = make_webhook(
        admin, url_of(redirector), events=["ticket.replied"], allow_private_target=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Hi"})

    assert redirector.posts == 4  # the first request and three redirects, all let through
    [delivery] = get(admin, f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert "gave up after 3 redirects" in delivery["last_error"]


def test_the_secret_is_shown_once(cast, api_as):
    admin = api_as(cast.admin)
    hook = make_webhook(admin, "https://hooks.example/thirdway", events=["ticket.created"])
    assert Webhook.objects.get(pk=hook["id"]).secret == hook["secret"]
    listed = get(admin, "/webhooks").json()["items"]
    changed = patch(admin, f"/webhooks/{hook['id']}", {"name": "Renamed", "is_active": False})
    assert changed.status_code == 200
    for answer in listed:
        assert "secret" not in answer
    # A change answers a secret only when it made a new one (see the format's tests).
    assert changed.json()["secret"] is None
    for answer in [*listed, changed.json()]:
        assert hook["secret"] not in json.dumps(answer)
    assert (changed.json()["name"], changed.json()["is_active"]) == ("Renamed", False)


def test_a_practice_admin_may_allow_a_private_target_later(cast, api_as):
    admin = api_as(cast.admin)
    hook = make_webhook(admin, "http://10.0.0.5/hook")
    assert hook["allow_private_target"] is False
    changed = patch(admin, f"/webhooks/{hook['id']}", {"allow_private_target": True})
    assert changed.json()["allow_private_target"] is True
    assert Webhook.objects.get(pk=hook["id"]).allow_private_target


@pytest.mark.parametrize("role", [role for role in ROLES if role != "admin"])
def test_only_practice_admins_manage_webhooks(role, cast, api_as):
    hook = make_webhook(api_as(cast.admin), "https://hooks.example/a", allow_private_target=True)
    client = api_as(getattr(cast, role))
    url = f"{API}/webhooks/{hook['id']}"
    assert get(client, "/webhooks").status_code == 403
    created = post(
        client,
        "/webhooks",
        {"name": "Mine", "url": "http://127.0.0.1/x", "allow_private_target": True},
    )
    assert created.status_code == 403
    assert (
        patch(client, f"/webhooks/{hook['id']}", {"allow_private_target": False}).status_code == 404
    )
    assert client.delete(url).status_code == 404
    assert get(client, f"/webhooks/{hook['id']}/deliveries").status_code == 404
    assert list(Webhook.objects.values_list("name", "allow_private_target")) == [
        ("Ops board", True)
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://hooks.example/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://hooks.example/x", "events": ["ticket.exploded"]}, "events.0"),
        ({"url": "https://hooks.example/x", "client": 99999}, "client"),
        ({"url": "https://hooks.example/x", "name": ""}, "name"),
    ],
)
def test_a_bad_webhook_is_a_400_naming_the_field(cast, api_as, payload, field):
    response = post(api_as(cast.admin), "/webhooks", {"name": "Bad", **payload})
    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Webhook.objects.exists()


def test_a_deleted_webhook_is_gone_with_its_deliveries(
    cast, desk, api_as, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    admin = api_as(cast.admin)
    hook = make_webhook(admin, url_of(receiver), allow_private_target=True)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Hi"})
    assert WebhookDelivery.objects.count() == 1
    assert admin.delete(f"{API}/webhooks/{hook['id']}").status_code == 204
    assert get(admin, f"/webhooks/{hook['id']}/deliveries").status_code == 404
    assert (Webhook.objects.count(), WebhookDelivery.objects.count()) == (0, 0)
