"""Outbound webhook HTTP: signatures, and the guard against reaching internal addresses.

Deliveries go to real HTTP servers on loopback addresses. Nothing here may reach any other
address: every test runs under a guard that fails a connect to a non-loopback address before
any packet leaves, and private ranges are only ever given to the pure check function.
"""

from __future__ import annotations

import ast
import ipaddress
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thirdway.tickets.webhooks import guard, outbound
from thirdway.tickets.webhooks.outbound import (
    MAX_RESPONSE_BYTES,
    TargetRefused,
    build_headers,
    check_address,
    deliver,
    refusal_reason,
    sign,
    signature_header,
    verify,
)

SECRET = "whsec-test-secret"
BODY = b'{"event":"ticket.created","ticket":{"id":42}}'
ASK_ADMIN = "ask a practice admin to allow this target"


# --------------------------------------------------------------------------------------------
# Test servers


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A real HTTP server in a thread, recording every connection and request it gets."""

    host: str
    answer: Callable[[Seen], Answer]
    family: int = socket.AF_INET
    tls: ssl.SSLContext | None = None
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    cut_off: bool = False

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_request(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                recorder.requests.append(seen)
                status, headers, body = recorder.answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except ConnectionError:  # the client stopped reading and hung up
                    recorder.cut_off = True

            do_POST = do_GET = do_request

        class HTTPServer(ThreadingHTTPServer):
            address_family = self.family
            daemon_threads = True

            def get_request(self):  # type: ignore[override]
                request = super().get_request()
                recorder.connections += 1
                return request

        self.httpd = HTTPServer((self.host, 0), Handler)
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/hook", scheme: str = "http") -> str:
        return f"{scheme}://{self.netloc}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def accept(seen: Seen) -> Answer:
    return 204, {}, b""


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(
        answer: Callable[[Seen], Answer] = accept,
        host: str = "127.0.0.1",
        family: int = socket.AF_INET,
        tls: ssl.SSLContext | None = None,
    ) -> Server:
        server = Server(host, answer, family, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def connect_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail, before any packet is sent, every connect to an address outside loopback."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is None or not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            attempts.append(address)
            raise ConnectionRefusedError(f"test guard: no traffic to {address!r}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield attempts


def headers_for(body: bytes = BODY, stamp: int | None = None) -> dict[str, str]:
    return build_headers(
        body, secret=SECRET, event="ticket.created", delivery_id="dlv-1", timestamp=stamp
    )


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Signing and verification


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, 1700000000) == expected
    assert signature_header(BODY, SECRET, 1700000000) == f"t=1700000000,v1={expected}"


def test_build_headers_carries_everything_a_receiver_needs() -> None:
    headers = headers_for(stamp=1700000000)
    assert headers == {
        "X-Thirdway-Signature": signature_header(BODY, SECRET, 1700000000),
        "X-Thirdway-Event": "ticket.created",
        "X-Thirdway-Delivery": "dlv-1",
        "Content-Type": "application/json",
        "User-Agent": "Thirdway-Webhooks/1",
    }
    with pytest.raises(ValueError):
        build_headers(BODY, secret=SECRET, event="bad\r\nInjected: 1", delivery_id="d")


def test_verify_rejects_stale_future_and_malformed_headers() -> None:
    header = signature_header(BODY, SECRET, 1000)
    assert verify(BODY, header, SECRET, tolerance_seconds=300, now=1300)
    assert not verify(BODY, header, SECRET, tolerance_seconds=300, now=1301)
    assert not verify(BODY, header, SECRET, tolerance_seconds=300, now=699)
    for bad in ("", "t=1000", "v1=abc", "t=x,v1=abc", "garbage", "t=1000,t=1000,v1=00"):
        assert not verify(BODY, bad, SECRET, tolerance_seconds=300, now=1000)
    # A rotating receiver may be sent two signatures; either matching is enough.
    rotated = f"t=1000,v1={sign(BODY, 'old', 1000)},v1={sign(BODY, SECRET, 1000)}"
    assert verify(BODY, rotated, SECRET, tolerance_seconds=300, now=1000)


@given(
    body=st.binary(max_size=2048),
    secret=st.text(min_size=1, max_size=64),
    timestamp=st.integers(min_value=0, max_value=2**40),
)
# Drawing 2 kB bodies is slow on a busy machine; that says nothing about signing.
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_verify_accepts_what_sign_produced(body: bytes, secret: str, timestamp: int) -> None:
    header = signature_header(body, secret, timestamp)
    assert verify(body, header, secret, tolerance_seconds=300, now=timestamp)


@given(
    body=st.binary(max_size=2048),
    other=st.binary(max_size=2048),
    secret=st.text(min_size=1, max_size=64),
    timestamp=st.integers(min_value=0, max_value=2**40),
)
def test_verify_rejects_any_other_body(
    body: bytes, other: bytes, secret: str, timestamp: int
) -> None:
    header = signature_header(body, secret, timestamp)
    assert verify(other, header, secret, tolerance_seconds=300, now=timestamp) == (other == body)


@given(
    body=st.binary(max_size=256),
    secret=st.text(min_size=1, max_size=32),
    wrong=st.text(min_size=1, max_size=32),
    timestamp=st.integers(min_value=10, max_value=2**40),
)
def test_verify_rejects_another_secret_or_a_moved_timestamp(
    body: bytes, secret: str, wrong: str, timestamp: int
) -> None:
    header = signature_header(body, secret, timestamp)
    assert verify(body, header, wrong, tolerance_seconds=300, now=timestamp) == (wrong == secret)
    moved = header.replace(f"t={timestamp},", f"t={timestamp - 1},")
    assert not verify(body, moved, secret, tolerance_seconds=300, now=timestamp)


# --------------------------------------------------------------------------------------------
# The pure address check: private ranges never see a packet


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.0.0.2", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "a shared address space (carrier-grade NAT) address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("0.1.2.3", 'a "this network" address (0.0.0.0/8)'),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("192.0.2.10", "a special-purpose address that is not publicly routable"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("fc00::1", "a private (unique local) address"),
        ("fd12:3456::1", "a private (unique local) address"),
        ("fec0::1", "a site-local address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "the IPv4-mapped form of 127.0.0.1, a loopback address"),
        ("::ffff:169.254.169.254", "the IPv4-mapped form of 169.254.169.254, a link-local"),
        ("::ffff:10.0.0.1", "the IPv4-mapped form of 10.0.0.1, a private address"),
        ("2002:7f00:1::", "the 6to4 form of 127.0.0.1, a loopback address"),
        ("2002:c0a8:101::1", "the 6to4 form of 192.168.1.1, a private address"),
        ("64:ff9b::7f00:1", "the NAT64 form of 127.0.0.1, a loopback address"),
        ("64:ff9b::a9fe:a9fe", "the NAT64 form of 169.254.169.254, a link-local address"),
        ("64:ff9b:1::1", "a local-use NAT64 address"),
        ("2001::1", "a Teredo tunnel address"),
        ("::127.0.0.1", "a deprecated IPv4-compatible address"),
        ("2001:db8::1", "a special-purpose address that is not publicly routable"),
    ],
)
def test_check_refuses_every_internal_class(address: str, reason: str) -> None:
    assert refusal_reason(address) is not None
    assert refusal_reason(address).startswith(reason)
    with pytest.raises(TargetRefused) as refused:
        check_address(address)
    assert str(refused.value).endswith(f"; {ASK_ADMIN}")
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::"]
)
def test_check_lets_public_addresses_through(address: str) -> None:
    assert refusal_reason(address) is None
    check_address(address)


def test_refusal_names_the_address_and_the_host() -> None:
    with pytest.raises(TargetRefused) as refused:
        check_address("127.0.0.1")
    assert str(refused.value) == f"127.0.0.1 is a loopback address; {ASK_ADMIN}"
    with pytest.raises(TargetRefused) as refused:
        check_address("10.0.0.7", host="intranet.example")
    assert str(refused.value) == (
        f"intranet.example resolves to 10.0.0.7, which is a private address; {ASK_ADMIN}"
    )
    assert refused.value.address == "10.0.0.7"
    assert refused.value.host == "intranet.example"
    with pytest.raises(TargetRefused) as refused:
        check_address("::ffff:127.0.0.1")
    assert str(refused.value) == (
        f"::ffff:127.0.0.1 is the IPv4-mapped form of 127.0.0.1, a loopback address; {ASK_ADMIN}"
    )


# --------------------------------------------------------------------------------------------
# Delivering to real servers


def test_loopback_target_is_refused_and_the_server_hears_nothing(serve) -> None:
    server = serve()
    result = deliver(server.url(), BODY, headers_for())
    assert not result.ok
    assert result.refused
    assert result.status_code is None
    assert result.error == f"127.0.0.1 is a loopback address; {ASK_ADMIN}"
    assert server.connections == 0
    assert server.requests == []


def test_allowed_target_is_delivered_with_a_signature_verify_accepts(serve) -> None:
    server = serve()
    stamp = int(time.time())
    result = deliver(
        server.url("/hook?x=1"),
        BODY,
        headers_for(stamp=stamp),
        allowed_hosts=frozenset({server.netloc}),
    )
    assert result.ok, result.error
    assert (result.status_code, result.error, result.refused) == (204, None, False)
    assert result.final_url == server.url("/hook?x=1")
    assert result.elapsed_ms >= 0
    [seen] = server.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook?x=1", BODY)
    assert seen.headers["host"] == server.netloc
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == "Thirdway-Webhooks/1"
    assert seen.headers["x-thirdway-event"] == "ticket.created"
    assert seen.headers["x-thirdway-delivery"] == "dlv-1"
    assert verify(seen.body, seen.headers["x-thirdway-signature"], SECRET, 300, now=stamp)


def test_caller_headers_cannot_override_host_or_length(serve) -> None:
    server = serve()
    headers = {**headers_for(), "Host": "evil.example", "Content-Length": "1"}
    result = deliver(server.url(), BODY, headers, allowed_hosts=frozenset({server.netloc}))
    assert result.ok, result.error
    [seen] = server.requests
    assert seen.headers["host"] == server.netloc
    assert seen.body == BODY


@pytest.mark.parametrize(
    ("entry", "delivered"),
    [
        ("127.0.0.1", False),  # without a port: port 80 for http, not the server's port
        ("{netloc}", True),
        ("127.0.0.1.:{port}", True),
        ("127.0.0.1:1", False),
        ("127.0.0.1:notaport", False),
        ("127.0.0.2", False),
        ("localhost", False),
    ],
)
def test_allow_list_forms(serve, entry: str, delivered: bool) -> None:
    server = serve()
    allowed = frozenset({entry.format(netloc=server.netloc, port=server.port)})
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=allowed)
    assert result.ok is delivered
    assert len(server.requests) == int(delivered)


def test_localhost_resolving_to_loopback_is_refused(serve) -> None:
    server = serve()
    result = deliver(f"http://localhost:{server.port}/hook", BODY, headers_for())
    assert not result.ok and result.refused
    assert result.error.startswith("localhost resolves to ")
    assert "which is a loopback address" in result.error and ASK_ADMIN in result.error
    assert server.connections == 0


def test_allowed_localhost_is_delivered(serve) -> None:
    server = serve()
    result = deliver(
        f"http://localhost:{server.port}/hook",
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"LOCALHOST:{server.port}"}),
    )
    assert result.ok, result.error
    assert server.requests[0].headers["host"] == f"localhost:{server.port}"


def test_other_forms_of_loopback_are_refused(serve) -> None:
    server = serve()
    for host in ("127.1", "2130706433", "0x7f.0.0.1"):
        result = deliver(f"http://{host}:{server.port}/", BODY, headers_for())
        assert not result.ok and result.refused, host
        assert "127.0.0.1" in result.error, (host, result.error)
    assert server.connections == 0


def test_a_name_with_any_internal_address_is_refused_before_connecting(
    serve, monkeypatch, connect_guard
) -> None:
    server = serve()
    real = socket.getaddrinfo

    def dns(host, port, *args, **kwargs):
        if host == "mixed.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    result = deliver(f"http://mixed.test:{server.port}/", BODY, headers_for())
    assert result.refused
    assert result.error == (
        f"mixed.test resolves to 127.0.0.1, which is a loopback address; {ASK_ADMIN}"
    )
    assert connect_guard == []
    assert server.connections == 0


def test_dns_rebinding_cannot_move_the_connection_to_loopback(
    serve, monkeypatch, connect_guard
) -> None:
    """The name is resolved once; the socket goes to the address that was checked.

    The first answer is a public address (which the guard stops before any packet is sent),
    every later answer is loopback. A check-then-connect-by-name client would reach the
    loopback server on its second resolution.
    """
    server = serve()
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            address = "8.8.8.8" if len(lookups) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    assert socket.socket.connect.__name__ == "guarded"
    result = deliver(f"http://rebind.test:{server.port}/", BODY, headers_for())
    assert not result.ok and not result.refused
    assert lookups == ["rebind.test"]
    assert connect_guard == [("8.8.8.8", server.port)]
    assert server.connections == 0


def test_a_name_is_resolved_once_and_keeps_its_host_header(serve, monkeypatch) -> None:
    server = serve()
    real = socket.getaddrinfo
    lookups: list[str] = []

    def dns(host, port, *args, **kwargs):
        if host == "hooks.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    result = deliver(
        f"http://hooks.test:{server.port}/hook",
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"hooks.test:{server.port}"}),
    )
    assert result.ok, result.error
    assert lookups == ["hooks.test"]
    assert server.requests[0].headers["host"] == f"hooks.test:{server.port}"


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback here")
def test_ipv6_loopback_is_refused_unless_allowed(serve) -> None:
    server = serve(host="::1", family=socket.AF_INET6)
    refused = deliver(server.url(), BODY, headers_for())
    assert refused.refused
    assert refused.error == f"::1 is a loopback address; {ASK_ADMIN}"
    assert server.connections == 0
    for entry in ("::1", "[::1]"):  # the default port of http, not the server's
        result = deliver(server.url(), BODY, headers_for(), allowed_hosts=frozenset({entry}))
        assert result.refused, entry
    assert server.connections == 0
    allowed = frozenset({f"[::1]:{server.port}"})
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=allowed)
    assert result.ok, result.error
    assert server.requests[0].headers["host"] == f"[::1]:{server.port}"


@pytest.mark.parametrize(
    ("entry", "host", "port", "scheme", "allowed"),
    [
        ("hooks.internal", "hooks.internal", 80, "http", True),
        ("hooks.internal", "hooks.internal", 443, "https", True),
        ("hooks.internal", "hooks.internal", 443, "http", False),
        ("hooks.internal", "hooks.internal", 8080, "http", False),
        ("hooks.internal:8443", "hooks.internal", 8443, "https", True),
        ("hooks.internal:8443", "hooks.internal", 443, "https", False),
        ("[fd00::5]", "fd00::5", 443, "https", True),
        ("fd00::5", "fd00::5", 8443, "https", False),
        ("[fd00::5]:8443", "fd00::5", 8443, "https", True),
    ],
)
def test_an_allowance_is_one_host_and_one_port(
    entry: str, host: str, port: int, scheme: str, allowed: bool
) -> None:
    assert guard._is_allowed(host, port, scheme, [entry]) is allowed


@pytest.mark.parametrize(
    ("url", "allowance"),
    [
        ("http://10.0.0.5/hook", "10.0.0.5:80"),
        ("https://Hooks.Internal/hook", "hooks.internal:443"),
        ("https://hooks.internal:8443/hook", "hooks.internal:8443"),
        ("http://[fd00::5]:8080/hook", "[fd00::5]:8080"),
    ],
)
def test_the_allowance_of_a_url_names_its_host_and_port(url: str, allowance: str) -> None:
    assert guard.allowance_of(url) == allowance


def test_a_redirect_to_another_port_of_an_allowed_host_is_refused_at_the_hop(serve) -> None:
    other_port = serve()
    first = serve(redirect_to(other_port.url("/elsewhere")))
    result = deliver(first.url(), BODY, headers_for(), allowed_hosts=frozenset({first.netloc}))
    assert not result.ok and result.refused
    assert result.error == f"127.0.0.1 is a loopback address; {ASK_ADMIN}"
    assert len(first.requests) == 1
    assert other_port.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "hooks.example/no-scheme",
        "http:///no-host",
        "not a url at all",
    ],
)
def test_only_http_and_https_urls(url: str) -> None:
    result = deliver(url, BODY, headers_for(), allowed_hosts=frozenset({"127.0.0.1"}))
    assert not result.ok and result.refused
    assert result.error


@pytest.mark.parametrize("userinfo", ["user:pw@", "user@", ":pw@", ":@"])
def test_credentials_in_urls_are_refused(serve, userinfo: str) -> None:
    server = serve()
    url = f"http://{userinfo}{server.netloc}/hook"
    result = deliver(url, BODY, headers_for(), allowed_hosts=frozenset({server.netloc}))
    assert not result.ok and result.refused
    assert "user name or password" in result.error
    assert server.connections == 0


def test_a_500_answer_is_not_delivered(serve) -> None:
    server = serve(lambda seen: (500, {}, b"boom"))
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=frozenset({server.netloc}))
    assert not result.ok and not result.refused
    assert result.status_code == 500
    assert result.error == f"{server.url()} answered 500"
    assert result.response_body == b"boom"


def test_only_the_first_64_kib_of_an_answer_are_read(serve) -> None:
    # Far more than loopback's socket buffers can hold (a few MiB with autotuning), so the
    # server is still writing when the client hangs up.
    server = serve(lambda seen: (200, {}, b"x" * (64 * 1024 * 1024)))
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=frozenset({server.netloc}))
    assert result.ok
    assert len(result.response_body) == MAX_RESPONSE_BYTES == 64 * 1024
    give_up = time.monotonic() + 5
    while not server.cut_off and time.monotonic() < give_up:
        time.sleep(0.01)
    assert server.cut_off, "the rest of the answer should never have been read"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers, until the test is over."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    done = threading.Event()
    held: list[socket.socket] = []

    def hold() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    done.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def test_a_receiver_that_never_answers_times_out(silent_server: int) -> None:
    started = time.monotonic()
    result = deliver(
        f"http://127.0.0.1:{silent_server}/hook",
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"127.0.0.1:{silent_server}"}),
        timeout=0.5,
    )
    assert time.monotonic() - started < 5
    assert not result.ok and not result.refused
    assert result.status_code is None
    assert result.error == f"timed out after 0.5s sending to http://127.0.0.1:{silent_server}/hook"


def test_a_closed_port_is_reported(serve) -> None:
    server = serve()
    port = server.port
    server.close()
    result = deliver(
        f"http://127.0.0.1:{port}/",
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"127.0.0.1:{port}"}),
    )
    assert not result.ok and not result.refused
    assert result.error.startswith(f"could not deliver to http://127.0.0.1:{port}/")


# --------------------------------------------------------------------------------------------
# Redirects


def redirect_to(location: str, status: int = 307) -> Callable[[Seen], Answer]:
    return lambda seen: (status, {"Location": location}, b"moved")


def test_a_redirect_to_an_unlisted_loopback_address_is_refused_at_the_hop(serve) -> None:
    target = serve(host="127.0.0.2")
    first = serve(redirect_to(target.url("/stolen")))
    result = deliver(first.url(), BODY, headers_for(), allowed_hosts=frozenset({first.netloc}))
    assert not result.ok and result.refused
    assert result.error == f"127.0.0.2 is a loopback address; {ASK_ADMIN}"
    assert result.final_url == target.url("/stolen")
    assert len(first.requests) == 1
    assert target.connections == 0


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_are_followed_with_the_same_post(serve, status: int) -> None:
    final = serve()
    first = serve(redirect_to(final.url("/moved"), status))
    stamp = int(time.time())
    result = deliver(
        first.url(),
        BODY,
        headers_for(stamp=stamp),
        allowed_hosts=frozenset({first.netloc, final.netloc}),
    )
    assert result.ok, result.error
    assert result.final_url == final.url("/moved")
    [seen] = final.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/moved", BODY)
    assert seen.headers["host"] == final.netloc
    assert seen.headers["x-thirdway-delivery"] == "dlv-1"
    assert verify(seen.body, seen.headers["x-thirdway-signature"], SECRET, 300, now=stamp)


def test_a_relative_redirect_stays_on_the_same_server(serve) -> None:
    def answer(seen: Seen) -> Answer:
        if seen.path == "/old":
            return 308, {"Location": "/new"}, b""
        return 202, {}, b"queued"

    server = serve(answer)
    result = deliver(
        server.url("/old"), BODY, headers_for(), allowed_hosts=frozenset({server.netloc})
    )
    assert result.ok and result.status_code == 202
    assert [seen.path for seen in server.requests] == ["/old", "/new"]
    assert result.response_body == b"queued"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_301_302_303_are_reported_not_delivered(serve, status: int) -> None:
    final = serve()
    first = serve(redirect_to(final.url("/new"), status))
    result = deliver(
        first.url(),
        BODY,
        headers_for(),
        allowed_hosts=frozenset({first.netloc, final.netloc}),
    )
    assert not result.ok and not result.refused
    assert result.status_code == status
    assert f"answered {status} with a redirect to {final.url('/new')}" in result.error
    assert "only follow 307 and 308" in result.error
    assert final.connections == 0


def test_redirects_stop_after_max_redirects(serve) -> None:
    server = serve(redirect_to("/again"))
    result = deliver(
        server.url(),
        BODY,
        headers_for(),
        allowed_hosts=frozenset({server.netloc}),
        max_redirects=3,
    )
    assert not result.ok
    assert result.error.startswith("gave up after 3 redirects")
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("ftp://127.0.0.1/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@127.0.0.1/x", "user name or password"),
    ],
)
def test_redirects_to_other_schemes_or_credentials_are_refused(
    serve, location: str, words: str
) -> None:
    server = serve(redirect_to(location))
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=frozenset({server.netloc}))
    assert not result.ok and result.refused
    assert words in result.error
    assert len(server.requests) == 1


def test_a_307_without_location_is_not_delivered(serve) -> None:
    server = serve(lambda seen: (307, {}, b""))
    result = deliver(server.url(), BODY, headers_for(), allowed_hosts=frozenset({server.netloc}))
    assert not result.ok and result.status_code == 307
    assert "without a Location header" in result.error


# --------------------------------------------------------------------------------------------
# TLS: the connection goes to the checked address, SNI and certificate checks use the name


@pytest.fixture(scope="module")
def localhost_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_server(serve, cert: Path, key: Path, names: list[str | None]) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    return serve(tls=context)


def test_https_to_an_allowed_name_uses_sni_and_verifies_the_name(serve, localhost_cert) -> None:
    cert, key = localhost_cert
    names: list[str | None] = []
    server = tls_server(serve, cert, key, names)
    trust = ssl.create_default_context(cafile=str(cert))
    url = f"https://localhost:{server.port}/hook"

    refused = deliver(url, BODY, headers_for(), ssl_context=trust)
    assert refused.refused and server.connections == 0

    result = deliver(
        url,
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"localhost:{server.port}"}),
        ssl_context=trust,
    )
    assert result.ok, result.error
    assert names == ["localhost"]
    assert server.requests[0].headers["host"] == f"localhost:{server.port}"

    # The same server by address: the certificate does not name 127.0.0.1, so no delivery.
    wrong_name = deliver(
        server.url(scheme="https"),
        BODY,
        headers_for(),
        allowed_hosts=frozenset({server.netloc}),
        ssl_context=trust,
    )
    assert not wrong_name.ok and not wrong_name.refused
    assert "certificate" in wrong_name.error.lower()
    assert len(server.requests) == 1


def test_https_is_never_redirected_down_to_http(serve, localhost_cert) -> None:
    cert, key = localhost_cert
    plain = serve()
    secure = tls_server(serve, cert, key, [])
    secure.answer = redirect_to(plain.url("/clear"))
    result = deliver(
        f"https://localhost:{secure.port}/hook",
        BODY,
        headers_for(),
        allowed_hosts=frozenset({f"localhost:{secure.port}", plain.netloc}),
        ssl_context=ssl.create_default_context(cafile=str(cert)),
    )
    assert not result.ok and result.refused
    assert "from https down to plain http" in result.error
    assert plain.connections == 0


@pytest.mark.parametrize(
    ("module", "libraries"), [(outbound, {"httpcore", "httpx"}), (guard, {"httpcore"})]
)
def test_the_module_stands_alone(module, libraries: set[str]) -> None:
    tree = ast.parse(Path(module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            if node.module == guard.__name__:
                continue  # the delivery's own guard, which stands alone too
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == libraries
