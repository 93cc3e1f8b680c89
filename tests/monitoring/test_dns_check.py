"""The server's DNS answer check against a real DNS server on loopback (a small UDP responder
made here with dnspython's message API), its validation, and the resolver guard."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rrset
import pytest

from support.api import API, assert_refused, send
from thirdway.audit.models import Source
from thirdway.monitoring import runner, services
from thirdway.monitoring.models import Check

ZONE = {
    ("www.acme.example.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("www.acme.example.", "AAAA"): ["2001:db8::10"],
    ("acme.example.", "MX"): ["10 mail.acme.example."],
    ("acme.example.", "TXT"): ['"v=spf1 mx -all"'],
    ("acme.example.", "NS"): ["ns1.acme.example."],
    ("shop.acme.example.", "CNAME"): ["www.acme.example."],
}


@pytest.fixture
def dns_server():
    """A DNS server on 127.0.0.1 answering from ``ZONE``; NXDOMAIN for names it lacks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()
    asked: list[str] = []

    def serve():
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name, kind = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            asked.append(f"{name} {kind}")
            response = dns.message.make_response(query)
            if (name, kind) in ZONE:
                response.answer.append(
                    dns.rrset.from_text_list(name, 300, "IN", kind, ZONE[(name, kind)])
                )
            elif not any(known == name for known, _ in ZONE):
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], asked
    stop.set()
    thread.join(2)
    sock.close()


def dns_check(cast, port, **data) -> Check:
    base = {
        "name": "DNS",
        "kind": "dns",
        "resolver": "127.0.0.1",
        "port": port,
        "allow_private_target": True,
        "max_attempts": 1,
        "timeout_seconds": 2,
    }
    return services.create_check(cast.admin, cast.acme, source=Source.CLI, **{**base, **data})


@pytest.mark.parametrize(
    ("name", "kind", "expected", "status"),
    [
        ("www.acme.example", "A", "192.0.2.11", "ok"),
        ("www.acme.example", "A", "192.0.2.99", "critical"),
        ("www.acme.example", "AAAA", "2001:DB8:0::10", "ok"),
        ("acme.example", "MX", "mail.acme.example", "ok"),
        ("acme.example", "MX", "10 mail.acme.example.", "ok"),
        ("acme.example", "TXT", "v=spf1 mx -all", "ok"),
        ("acme.example", "NS", "ns2.acme.example", "critical"),
        ("shop.acme.example", "CNAME", "www.acme.example", "ok"),
        ("acme.example", "A", "", "critical"),  # the name exists, no A record
        ("nothing.acme.example", "A", "", "critical"),  # NXDOMAIN
        ("www.acme.example", "A", "", "ok"),  # any answer
    ],
)
def test_the_answer_is_compared_with_the_value_expected(
    cast, dns_server, name, kind, expected, status
):
    port, asked = dns_server
    check = dns_check(cast, port, target=name, record_type=kind, expected_answer=expected)
    assert runner.run_due_checks() == 1
    check.refresh_from_db()
    assert check.status == status, check.last_output
    assert asked == [f"{name}. {kind}"]
    if name.startswith("nothing"):
        assert "does not exist" in check.last_output


def test_a_silent_resolver_is_down_within_the_timeout(cast):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        check = dns_check(
            cast, silent.getsockname()[1], target="www.acme.example", timeout_seconds=1
        )
        assert runner.run_due_checks() == 1
        check.refresh_from_db()
        assert check.status == "critical" and check.last_output.startswith("No answer within 1 s")
    finally:
        silent.close()


def test_dns_checks_are_validated_and_a_private_resolver_needs_a_practice_admin(cast, api_as):
    partner = api_as(cast.partner)
    base = {"client": cast.acme.pk, "name": "MX", "kind": "dns", "target": "acme.example"}
    made = send(partner, "post", API + "/monitoring/checks", {**base, "record_type": "MX"})
    assert made.status_code == 201, made.content
    assert made.json()["record_type"] == "MX" and made.json()["resolver"] == ""
    public = send(partner, "post", API + "/monitoring/checks", {**base, "resolver": "9.9.9.9"})
    assert public.status_code == 201, public.content
    before = Check.objects.count()
    refusals = [
        ({**base, "record_type": "SOA"}, "record_type"),
        ({**base, "target": ""}, "target"),
        ({**base, "target": "a" * 254}, "target"),
        ({**base, "target": "bad name"}, "target"),
        ({**base, "target": "a..b"}, "target"),
        ({**base, "resolver": "dns.google"}, "resolver"),
        ({**base, "resolver": "10.0.0.53"}, "resolver"),
        ({**base, "resolver": "127.0.0.1"}, "resolver"),
        ({**base, "port": 5353}, "port"),
        ({**base, "resolver": "9.9.9.9", "port": 70000}, "port"),
        ({**base, "expected_answer": "x" * 256}, "expected_answer"),
        ({**base, "timeout_seconds": 31}, "timeout_seconds"),
    ]
    for body, field in refusals:
        assert_refused(send(partner, "post", API + "/monitoring/checks", body), field)
    allowed = {**base, "resolver": "127.0.0.1", "allow_private_target": True}
    assert send(partner, "post", API + "/monitoring/checks", allowed).status_code == 403
    assert Check.objects.count() == before
    assert send(api_as(cast.admin), "post", API + "/monitoring/checks", allowed).status_code == 201


def test_another_clients_people_do_not_see_a_dns_check(cast, api_as):
    check = services.create_check(
        cast.admin, cast.acme, name="MX", kind="dns", target="acme.example", source=Source.CLI
    )
    for role in ("other_partner", "other_client_admin", "outsider"):
        client = api_as(getattr(cast, role))
        assert send(client, "get", API + f"/monitoring/checks/{check.pk}").status_code == 404
        patched = send(
            client, "patch", API + f"/monitoring/checks/{check.pk}", {"resolver": "1.1.1.1"}
        )
        assert patched.status_code == 404
    check.refresh_from_db()
    assert check.resolver == ""
