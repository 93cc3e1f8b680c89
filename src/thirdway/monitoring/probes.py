"""The server's own checks: an HTTP(S) request, a TCP connection, a TLS certificate's expiry.

Every probe connects through the webhooks' guarded network backend
(``tickets.webhooks.guard``): the host is resolved once, each address is checked, and only a
checked address is connected to.  A practice probes its clients' *public* hosts by default;
a private, loopback or link-local address is reached only when a practice admin allowed it for
that check (then exactly its host and port, as webhooks do).  Each probe has one time budget
(``timeout`` seconds) for resolving, connecting, TLS and reading; bodies are read up to
``MAX_BODY`` bytes.  A probe never raises: it returns what it saw.
"""

from __future__ import annotations

import datetime as dt
import ssl
import time
from dataclasses import dataclass

import httpcore
import httpx
from cryptography import x509

from thirdway.clients.certificates import SeenCertificate
from thirdway.monitoring.engine import Status
from thirdway.tickets.webhooks.guard import GuardedBackend, TargetRefused

MAX_BODY = 64 * 1024
USER_AGENT = "Thirdway-Monitoring/1"


@dataclass(frozen=True)
class Seen:
    status: Status
    output: str
    value: float | None = None
    # The certificate the probe read, for the rooms that keep expiry dates.
    certificate: SeenCertificate | None = None


def _backend(allowed: frozenset[str], timeout: float, scheme: str) -> GuardedBackend:
    backend = GuardedBackend(allowed, time.monotonic() + timeout)
    backend.scheme = scheme
    return backend


def http(
    url: str,
    *,
    expected_status: int,
    body_contains: str,
    timeout: float,
    allowed: frozenset[str] = frozenset(),
) -> Seen:
    """GET ``url`` (no redirect followed): the status must be ``expected_status`` and the
    body, when asked, must contain ``body_contains``.  The value is the time taken in ms."""
    started = time.monotonic()
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        return Seen(Status.UNKNOWN, f"The URL cannot be read: {exc}")
    if parsed.scheme not in ("http", "https"):
        return Seen(Status.UNKNOWN, "Only http and https URLs can be checked.")
    pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_backend(allowed, timeout, parsed.scheme),
        retries=0,
    )
    target = httpcore.URL(
        scheme=parsed.raw_scheme,
        host=parsed.raw_host,
        port=parsed.port,
        target=parsed.raw_path,
    )
    host = parsed.netloc
    headers = [(b"Host", host), (b"User-Agent", USER_AGENT.encode()), (b"Accept", b"*/*")]
    limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    try:
        with (
            pool,
            pool.stream("GET", target, headers=headers, extensions={"timeout": limits}) as response,
        ):
            body = bytearray()
            for chunk in response.iter_stream():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
            code = response.status
    except TargetRefused as exc:
        return Seen(Status.UNKNOWN, f"Not checked: {exc}.")
    except httpcore.TimeoutException:
        return Seen(Status.CRITICAL, f"No answer within {timeout:g} s.")
    except (httpcore.NetworkError, httpcore.ProtocolError, ssl.SSLError, OSError) as exc:
        return Seen(Status.CRITICAL, f"Could not connect: {exc}"[:500])
    elapsed = round((time.monotonic() - started) * 1000, 1)
    if code != expected_status:
        return Seen(Status.CRITICAL, f"HTTP {code}, expected {expected_status}.", elapsed)
    if body_contains and body_contains.encode() not in bytes(body):
        text = f"HTTP {code}, but the body does not contain {body_contains!r}."
        return Seen(Status.CRITICAL, text[:500], elapsed)
    return Seen(Status.OK, f"HTTP {code} in {elapsed:g} ms.", elapsed)


def _connect(host: str, port: int, timeout: float, allowed: frozenset[str], scheme: str):
    backend = _backend(allowed, timeout, scheme)
    return backend.connect_tcp(host, port, timeout=timeout)


def tcp(host: str, port: int, *, timeout: float, allowed: frozenset[str] = frozenset()) -> Seen:
    """Open a TCP connection to ``host:port`` and close it; the value is the time in ms."""
    started = time.monotonic()
    try:
        stream = _connect(host, port, timeout, allowed, "tcp")
    except TargetRefused as exc:
        return Seen(Status.UNKNOWN, f"Not checked: {exc}.")
    except httpcore.TimeoutException:
        return Seen(Status.CRITICAL, f"No connection to port {port} within {timeout:g} s.")
    except (httpcore.NetworkError, OSError) as exc:
        return Seen(Status.CRITICAL, f"Port {port} refused the connection: {exc}"[:500])
    stream.close()
    elapsed = round((time.monotonic() - started) * 1000, 1)
    return Seen(Status.OK, f"Port {port} open ({elapsed:g} ms).", elapsed)


def _unverified_context() -> ssl.SSLContext:
    # The certificate is read, not trusted: an expired or self-signed one must still be seen.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def certificate(
    host: str, port: int, *, timeout: float, allowed: frozenset[str] = frozenset()
) -> tuple[x509.Certificate | None, Seen | None]:
    """The server's certificate, read in binary form (so expired and self-signed ones parse),
    or what went wrong."""
    try:
        stream = _connect(host, port, timeout, allowed, "https")
    except TargetRefused as exc:
        return None, Seen(Status.UNKNOWN, f"Not checked: {exc}.")
    except httpcore.TimeoutException:
        return None, Seen(Status.CRITICAL, f"No connection to port {port} within {timeout:g} s.")
    except (httpcore.NetworkError, OSError) as exc:
        return None, Seen(Status.CRITICAL, f"Could not connect: {exc}"[:500])
    try:
        secured = stream.start_tls(_unverified_context(), server_hostname=host, timeout=timeout)
        der = secured.get_extra_info("ssl_object").getpeercert(True)  # binary form
        secured.close()
    except (httpcore.TimeoutException, httpcore.NetworkError, ssl.SSLError, OSError) as exc:
        stream.close()
        return None, Seen(Status.CRITICAL, f"The TLS handshake failed: {exc}"[:500])
    if not der:
        return None, Seen(Status.CRITICAL, "The server sent no certificate.")
    return x509.load_der_x509_certificate(der), None


def days_left(cert: x509.Certificate, now: dt.datetime) -> float:
    return round((cert.not_valid_after_utc - now).total_seconds() / 86_400, 2)


def seen_certificate(cert: x509.Certificate, host: str, port: int) -> SeenCertificate:
    """The facts of a certificate other rooms keep: whose, by whom, until when."""
    return SeenCertificate(
        host=host.strip(),
        port=port,
        not_after=cert.not_valid_after_utc,
        subject=cert.subject.rfc4514_string()[:300],
        issuer=cert.issuer.rfc4514_string()[:300],
    )


def describe(cert: x509.Certificate, now: dt.datetime) -> str:
    """What people need of a certificate: whose, by whom, until when."""
    subject = cert.subject.rfc4514_string() or "(no subject)"
    issuer = cert.issuer.rfc4514_string()
    ends = cert.not_valid_after_utc
    left = days_left(cert, now)
    when = f"expired {-left:g} days ago" if left < 0 else f"{left:g} days left"
    who = "self-signed" if cert.subject == cert.issuer else f"issued by {issuer}"
    return f"{subject}, {who}, valid until {ends:%Y-%m-%d %H:%M} UTC ({when})."[:500]
