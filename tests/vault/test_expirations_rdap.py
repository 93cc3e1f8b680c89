"""Domain expiry dates from RDAP: through a bootstrap list and an RDAP service served by a
real HTTP server of the test's own on the loopback, let through the SSRF guard only by the
allow-list the test sets."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from django.core.cache import cache

from thirdway.audit.models import AuditRecord, Source
from thirdway.vault.models import ExpiryItem
from thirdway.vault.services import expirations, rdap_checks

DOMAINS = {
    # The registry's date is preferred to the registrar's.
    "acme.example": {
        "objectClassName": "domain",
        "ldhName": "acme.example",
        "events": [
            {"eventAction": "registration", "eventDate": "2019-01-01T00:00:00Z"},
            {"eventAction": "registrar expiration", "eventDate": "2027-01-01T00:00:00Z"},
            {"eventAction": "expiration", "eventDate": "2027-05-04T10:11:12Z"},
        ],
    },
    "acme.nodate": {"objectClassName": "domain", "ldhName": "acme.nodate", "events": []},
}


class _Rdap(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        port = self.server.server_address[1]
        if self.path == "/dns.json":
            base = f"http://127.0.0.1:{port}/rdap/"
            body = {
                "version": "1.0",
                "services": [[["example", "nodate", "broken"], [base]], [["moved"], [base + "x/"]]],
            }
            return self._answer(200, body)
        if self.path.startswith("/rdap/x/"):
            self.send_response(302)
            self.send_header("Location", "/rdap/domain/acme.example")
            self.end_headers()
            return None
        name = self.path.removeprefix("/rdap/domain/")
        if name == "acme.broken":
            return self._answer(500, {"errorCode": 500})
        if name in DOMAINS:
            return self._answer(200, DOMAINS[name])
        return self._answer(404, {"errorCode": 404})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def rdap_server(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rdap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    _Rdap.seen = []
    cache.clear()
    settings.VAULT_RDAP_BOOTSTRAP_URL = f"http://127.0.0.1:{port}/dns.json"
    settings.VAULT_RDAP_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    settings.VAULT_RDAP_TIMEOUT = 5
    yield _Rdap.seen
    server.shutdown()
    server.server_close()
    cache.clear()


def _domain(cast, name: str, expires_on=dt.date(2026, 12, 31)) -> ExpiryItem:
    return expirations.create_expiry(
        cast.partner, cast.acme, kind="domain", name=name, expires_on=expires_on, source=Source.CLI
    )


def test_the_registrys_date_replaces_the_one_entered(cast, rdap_server):
    item = _domain(cast, "acme.example")
    checked = rdap_checks.check_domain(cast.partner, item, source=Source.WEB)
    assert (checked.rdap_state, checked.expires_on) == ("found", dt.date(2027, 5, 4))
    assert checked.rdap_checked_at is not None and "127.0.0.1" in checked.rdap_message
    record = AuditRecord.objects.get(action="expiry.rdap")
    assert record.changes["expires_on"] == ["2026-12-31", "2027-05-04"]
    # The bootstrap list is read once and kept.
    rdap_checks.check_domain(cast.partner, item, source=Source.WEB)
    assert rdap_server.count("/dns.json") == 1
    assert rdap_server.count("/rdap/domain/acme.example") == 2


def test_no_date_in_rdap_is_unknown_and_keeps_the_date_entered(cast, rdap_server):
    item = _domain(cast, "ACME.NODATE.")
    checked = rdap_checks.check_domain(None, item, source=Source.SYSTEM)
    assert checked.rdap_state == "unknown" and checked.expires_on == dt.date(2026, 12, 31)
    assert "enter it by hand" in checked.rdap_message


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("acme.broken", "answered 500"),
        ("other.example", "does not know this domain (404)"),
        ("acme.unlisted", "No RDAP service is listed for .unlisted"),
        ("not a domain", "is not a domain name"),
    ],
)
def test_a_failed_check_says_why_and_keeps_the_date(cast, rdap_server, name, says):
    item = _domain(cast, name)
    checked = rdap_checks.check_domain(cast.partner, item, source=Source.WEB)
    assert checked.rdap_state == "failed" and says in checked.rdap_message
    assert checked.expires_on == dt.date(2026, 12, 31)


def test_a_redirect_is_followed_through_the_guard(cast, rdap_server):
    checked = rdap_checks.check_domain(cast.partner, _domain(cast, "acme.moved"), source="web")
    # The redirect leads to acme.example's answer.
    assert checked.expires_on == dt.date(2027, 5, 4)


def test_the_loopback_is_refused_without_the_allow_list(cast, rdap_server, settings):
    settings.VAULT_RDAP_ALLOWED_HOSTS = []
    checked = rdap_checks.check_domain(cast.partner, _domain(cast, "acme.example"), source="web")
    assert checked.rdap_state == "failed" and "loopback" in checked.rdap_message
    assert rdap_server == []


def test_the_daily_job_checks_each_domain_once_a_day(cast, rdap_server):
    _domain(cast, "acme.example")
    expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="licence",
        name="Office",
        expires_on=dt.date(2026, 12, 31),
        source=Source.CLI,
    )
    assert rdap_checks.check_due_domains() == 1
    assert rdap_checks.check_due_domains() == 0
    assert ExpiryItem.objects.get(kind="domain").rdap_state == "found"


def test_check_now_on_the_page_and_the_api(cast, rdap_server, web_as, api_as):
    item = _domain(cast, "acme.nodate")
    page = web_as(cast.partner).post(f"/vault/expirations/{item.pk}/rdap/", follow=True)
    assert page.status_code == 200
    assert "unknown — enter by hand" in page.content.decode()
    paula = api_as(cast.partner)
    answer = paula.post(f"/api/v1/vault/expirations/{item.pk}/rdap")
    assert answer.status_code == 200 and answer.json()["rdap_state"] == "unknown"
    licence = expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="licence",
        name="x",
        expires_on=dt.date(2027, 1, 1),
        source="cli",
    )
    answer = paula.post(f"/api/v1/vault/expirations/{licence.pk}/rdap")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "kind"


def test_check_now_is_closed_to_others(cast, rdap_server, web_as, api_as):
    item = _domain(cast, "acme.example")
    assert (
        api_as(cast.other_partner).post(f"/api/v1/vault/expirations/{item.pk}/rdap").status_code
        == 404
    )
    assert web_as(cast.other_partner).post(f"/vault/expirations/{item.pk}/rdap/").status_code == 404
    assert (
        api_as(cast.associate).post(f"/api/v1/vault/expirations/{item.pk}/rdap").status_code == 403
    )
    assert rdap_server == []
