"""Agent checks of devices on the client's LAN: the agent's own ping, TCP and HTTP(S) functions
against real servers on loopback (a self-signed and an expired certificate made here), the
server's validation of these checks, and the real agent end to end against a served instance."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from django.test import Client as HttpClient
from thirdway_agent import cli, lan

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.monitoring import agents, services
from thirdway.monitoring.models import Agent, Check

from .conftest import _certificate, closed_port
from .test_agent_live import enrolled  # noqa: F401 - the fixture


@pytest.fixture
def https(tmp_path):
    """Start an HTTPS server on loopback whose self-signed certificate ends in ``days``."""
    servers = []

    def start(days: float, body: bytes = b"printer ready") -> str:
        not_after = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
        cert, key = _certificate(tmp_path, f"device{len(servers)}", not_after)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}/status"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- the agent's functions ---------------------------------------------------------------------


def test_tcp_sees_an_open_and_a_closed_port(open_port):
    seen = lan.tcp("127.0.0.1", open_port, 2)
    assert (
        seen["status"] == "ok" and seen["value"] >= 0 and f"Port {open_port} open" in seen["output"]
    )
    shut = closed_port()
    seen = lan.tcp("127.0.0.1", shut, 2)
    assert seen["status"] == "critical" and seen["value"] is None and "refused" in seen["output"]


def test_ping_without_the_binary_falls_back_to_tcp_and_says_so(monkeypatch):
    monkeypatch.setattr(lan.shutil, "which", lambda name: None)
    seen = lan.ping("127.0.0.1", 2)  # loopback refuses the ports: a refusal is an answer
    assert seen["status"] == "ok" and seen["value"] is not None
    assert seen["output"].startswith("TCP (no ping binary): 127.0.0.1 answered on port")


def test_http_matches_the_status_and_the_body(web):
    seen = lan.http(web.url + "/", expected_status=200, body_contains="good", timeout=2)
    assert (
        seen["status"] == "ok" and seen["value"] is None and seen["output"].startswith("HTTP 200")
    )
    seen = lan.http(web.url + "/", expected_status=200, body_contains="ready", timeout=2)
    assert seen["status"] == "critical" and "does not contain 'ready'" in seen["output"]
    web.answer.status = 503
    seen = lan.http(web.url + "/", expected_status=200, body_contains="", timeout=2)
    assert seen["status"] == "critical" and seen["output"].startswith("HTTP 503, expected 200")
    seen = lan.http(
        f"http://127.0.0.1:{closed_port()}/", expected_status=200, body_contains="", timeout=2
    )
    assert seen["status"] == "critical" and seen["output"].startswith("Could not connect")


def test_https_reads_a_self_signed_and_an_expired_certificate(https):
    fresh = lan.http(https(40), expected_status=200, body_contains="ready", timeout=3)
    assert fresh["status"] == "ok" and 39.9 < fresh["value"] <= 40
    assert "40 days left" in fresh["output"] or "39.9" in fresh["output"]
    expired = lan.http(https(-3), expected_status=200, body_contains="", timeout=3)
    assert expired["status"] == "ok" and -3.1 < expired["value"] < -2.9
    assert "certificate expired 3 days ago" in expired["output"]


def test_the_agents_own_der_reader_agrees_with_cryptography(https):
    url = https(-400)
    port = int(url.split(":")[2].split("/")[0])
    days, der = lan.certificate_days("127.0.0.1", port, 3)
    parsed = x509.load_der_x509_certificate(der).not_valid_after_utc
    assert lan._not_after(der) == parsed.replace(microsecond=0)
    assert -400.1 < days < -399.9


# --- the server's validation -------------------------------------------------------------------


def _agent(cast):
    _, token = agents.issue_enrolment_token(cast.partner, cast.acme, source=Source.CLI)
    agent, _ = agents.enrol(token, hostname="srv-lan")
    return agent


def test_lan_checks_are_validated_and_bad_ones_refused_naming_the_field(cast, api_as):
    agent = _agent(cast)
    client = api_as(cast.partner)
    base = {"client": cast.acme.pk, "name": "Printer", "agent": agent.pk}
    good = [
        {**base, "kind": "agent_ping", "target": "192.168.1.20"},
        {**base, "kind": "agent_tcp", "target": "nas.lan", "port": 445, "timeout_seconds": 60},
        {**base, "kind": "agent_http", "target": "https://10.0.0.2/", "critical_threshold": 7},
    ]
    for body in good:  # private addresses are the point: no practice admin needed
        response = send(client, "post", API + "/monitoring/checks", body)
        assert response.status_code == 201, response.content
    before = Check.objects.count()
    tcp = {**base, "kind": "agent_tcp", "target": "nas.lan", "port": 445}
    refusals = [
        ({**tcp, "port": None}, "port"),
        ({**tcp, "port": 0}, "port"),
        ({**tcp, "port": 65536}, "port"),
        ({**tcp, "timeout_seconds": 61}, "timeout_seconds"),
        ({**tcp, "timeout_seconds": 0}, "timeout_seconds"),
        ({**tcp, "target": "a" * 254}, "target"),
        ({**tcp, "target": ""}, "target"),
        ({**tcp, "target": "nas lan"}, "target"),
        ({**tcp, "agent": None}, "agent"),
        ({**base, "kind": "agent_http", "target": "ftp://nas.lan/"}, "target"),
        ({**base, "kind": "agent_http", "target": "http://u:p@nas.lan/"}, "target"),
        ({**base, "kind": "agent_http", "target": "http://nas.lan:99999/"}, "target"),
        (
            {
                **base,
                "kind": "agent_http",
                "target": "https://nas.lan/",
                "warning_threshold": 3,
                "critical_threshold": 7,
            },
            "critical_threshold",
        ),
        (
            {**base, "kind": "agent_ping", "target": "x", "warning_threshold": 1e9},
            "warning_threshold",
        ),
    ]
    for body, field in refusals:
        assert_refused(send(client, "post", API + "/monitoring/checks", body), field)
    # The server's own probes still wait at most 30 s.
    server_tcp = {"client": cast.acme.pk, "name": "Mail", "kind": "tcp", "target": "mx.example"}
    refused = send(
        client,
        "post",
        API + "/monitoring/checks",
        {**server_tcp, "port": 25, "timeout_seconds": 31},
    )
    assert_refused(refused, "timeout_seconds")
    assert Check.objects.count() == before


def test_another_clients_people_cannot_add_or_see_lan_checks(cast, api_as):
    agent = _agent(cast)
    body = {
        "client": cast.acme.pk,
        "name": "NAS",
        "kind": "agent_tcp",
        "agent": agent.pk,
        "target": "nas.lan",
        "port": 445,
    }
    outsiders = {role: api_as(getattr(cast, role)) for role in ("other_partner", "outsider")}
    for role, client in outsiders.items():
        response = send(client, "post", API + "/monitoring/checks", body)
        assert response.status_code in (400, 404), (role, response.content)
    # Another client's agent cannot run this client's check.
    globex = {**body, "client": cast.globex.pk}
    assert_refused(send(api_as(cast.admin), "post", API + "/monitoring/checks", globex), "agent")
    made = send(api_as(cast.partner), "post", API + "/monitoring/checks", body)
    assert made.status_code == 201
    check_id = made.json()["id"]
    for client in outsiders.values():
        got = send(client, "get", API + f"/monitoring/checks/{check_id}")
        assert got.status_code == 404
    assert Check.objects.count() == 1


def test_the_agent_is_handed_what_a_lan_check_needs(cast):
    agent = _agent(cast)
    check = services.create_check(
        cast.partner,
        cast.acme,
        name="NAS",
        kind="agent_tcp",
        agent_id=agent.pk,
        target="nas.lan",
        port=445,
        timeout_seconds=5,
        source=Source.CLI,
    )
    item = next(c for c in agents.config_of(agent)["checks"] if c["id"] == check.pk)
    assert item["port"] == 445 and item["timeout_seconds"] == 5 and item["target"] == "nas.lan"
    answer = send(HttpClient(), "post", API + "/monitoring/agent/heartbeat", {})
    assert answer.status_code == 401  # the list is the agent's alone


# --- the real agent against a served instance --------------------------------------------------


def test_the_agent_checks_a_lan_port_and_an_expired_certificate_end_to_end(
    cast,
    enrolled,  # noqa: F811 - the fixture imported above
    open_port,
    https,
    capsys,
):
    agent = Agent.objects.get()
    common = {"agent_id": agent.pk, "max_attempts": 1, "source": Source.CLI}
    port_check = services.create_check(
        cast.admin,
        cast.acme,
        name="Switch",
        kind="agent_tcp",
        target="127.0.0.1",
        port=open_port,
        **common,
    )
    cert_check = services.create_check(
        cast.admin,
        cast.acme,
        name="NAS admin page",
        kind="agent_http",
        target=https(-2),
        body_contains="ready",
        warning_threshold=21,
        critical_threshold=7,
        **common,
    )
    assert cli.main(["--config", str(enrolled), "once"]) == 0
    assert json.loads(capsys.readouterr().out)["delivered"] == 2
    port_check.refresh_from_db()
    cert_check.refresh_from_db()
    assert port_check.status == "ok" and port_check.last_output.startswith(f"Port {open_port} open")
    assert (
        cert_check.status == "critical"
        and "certificate expired 2 days ago" in cert_check.last_output
    )
