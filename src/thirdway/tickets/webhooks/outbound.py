"""Outbound HTTP for ticket webhooks: signing, verification and guarded delivery.

Self-contained on purpose: nothing from Django or the rest of Thirdway is imported but its own
``guard``, so the module can be tested, reused by a worker, or audited on its own.

Signing
    ``X-Thirdway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
    ``f"{t}.".encode() + body``. A receiver recomputes it with the shared secret, compares in
    constant time and rejects stale timestamps (:func:`verify` does all three). Several ``v1=``
    values may appear in one header, so a receiver rotating secrets can accept either.
    ``X-Thirdway-Delivery`` carries an id chosen by the caller and kept across retries, so a
    receiver can drop a delivery it has already processed.

Standard Webhooks
    The other format a webhook may choose (:func:`standard_headers`): ``webhook-id``,
    ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
    ``f"{id}.{timestamp}.".encode() + body``, keyed with the bytes of the secret's base64 part
    (the secret is written ``whsec_<base64>``). Receivers verify it with any Standard Webhooks
    library.

Guarded delivery (server-side request forgery)
    A webhook URL is typed in by a client or partner, so by default it may only reach
    globally routable addresses. The check happens at connect time, inside the network
    backend that opens the TCP connection: the host is resolved once, *every* address it
    resolves to is checked, and the socket is then opened to one of those checked addresses
    (not to the name, which could resolve differently a millisecond later: DNS rebinding).
    The URL keeps its host name, so the ``Host`` header, TLS SNI and certificate checks are
    those of the name. No proxy settings from the environment are honoured, since a proxy
    would connect on our behalf and defeat the check.

    ``allowed_hosts`` is a practice admin's explicit allow-list of host *and port* pairs.
    Entries are compared with the host as written in the URL (not with the addresses it
    resolves to) and the port connected to: ``"hooks.internal.example:8443"`` allows that name
    on port 8443 only; ``"hooks.internal.example"`` (no port) allows it on the default port of
    the scheme of the request, 80 for http and 443 for https, never on any other port;
    ``"10.0.0.5:8080"`` an address literal; IPv6 literals are written ``"[fd00::5]:8443"`` (or
    ``"fd00::5"`` / ``"[fd00::5]"`` for the default port). Comparison ignores case and a
    trailing dot. Every redirect hop is checked against the list on its own host, port and
    scheme, so a redirect to another port of an allowed private host is refused.

Redirects
    Followed by hand, at most ``max_redirects`` times, each hop checked exactly like the first.
    Only 307 and 308 are followed, re-sending the same POST with the same body and headers
    (the signature covers the body and timestamp, not the URL, so it stays valid). A 301, 302
    or 303 would turn the POST into a body-less GET by the usual client rules, which is not a
    delivery, so it is reported as not delivered with the new location in the error: the
    webhook URL should be updated instead. Redirects to a scheme other than http/https, to a
    URL with credentials, or from https down to plain http are refused.

Timeouts
    ``timeout`` is one budget in seconds for the whole delivery, redirects included: name
    resolution, connecting, TLS, sending and reading all stop when it is spent.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import ssl
import time
import typing
from dataclasses import dataclass

import httpcore
import httpx

from thirdway.tickets.webhooks.guard import (
    TargetRefused,
    _GuardedBackend,
    check_address,
    refusal_reason,
)

__all__ = [
    "MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "DeliveryResult",
    "TargetRefused",
    "build_headers",
    "check_address",
    "deliver",
    "refusal_reason",
    "sign",
    "signature_header",
    "standard_headers",
    "standard_secret",
    "verify",
]

USER_AGENT = "Thirdway-Webhooks/1"
MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_TOLERANCE_SECONDS = 300

SIGNATURE_HEADER = "X-Thirdway-Signature"
EVENT_HEADER = "X-Thirdway-Event"
DELIVERY_HEADER = "X-Thirdway-Delivery"

_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FOLLOWED_REDIRECTS = frozenset({307, 308})
_REPORTED_REDIRECTS = frozenset({301, 302, 303})
# Headers that deliver() sets from the URL and body itself; a caller's copies are dropped.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


# --------------------------------------------------------------------------------------------
# Signing


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` under ``secret``."""
    message = f"{int(timestamp)}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """The value of ``X-Thirdway-Signature``: ``t=<timestamp>,v1=<hex>``."""
    return f"t={int(timestamp)},v1={sign(body, secret, timestamp)}"


def build_headers(
    body: bytes,
    *,
    secret: str,
    event: str,
    delivery_id: str,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Every header a webhook delivery carries, signed at ``timestamp`` (default: now).

    ``delivery_id`` must stay the same across retries of one delivery, so that receivers can
    de-duplicate them.
    """
    for name, value in (("event", event), ("delivery_id", delivery_id)):
        if not value or not all(0x21 <= ord(ch) <= 0x7E for ch in value):
            raise ValueError(f"{name} must be non-empty printable ASCII without spaces")
    if timestamp is None:
        timestamp = int(time.time())
    return {
        SIGNATURE_HEADER: signature_header(body, secret, timestamp),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


STANDARD_SECRET_PREFIX = "whsec_"  # noqa: S105 (the form of a secret, not one)


def standard_secret() -> str:
    """A new secret in the Standard Webhooks form: ``whsec_`` and 32 random bytes in base64."""
    return STANDARD_SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def standard_key(secret: str) -> bytes | None:
    """The key bytes of a ``whsec_<base64>`` secret; None when it is not in that form."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(STANDARD_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if 24 <= len(key) <= 64 else None


def standard_headers(
    body: bytes, *, secret: str, message_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of a Standard Webhooks delivery, signed at ``timestamp`` (default: now).

    ``message_id`` stays the same across retries of one delivery (receivers de-duplicate on
    it). Raises ValueError for a secret not in the ``whsec_<base64>`` form.
    """
    key = standard_key(secret)
    if key is None:
        raise ValueError("a Standard Webhooks secret is whsec_ and 24 to 64 bytes in base64")
    if not message_id or not all(0x21 <= ord(ch) <= 0x7E for ch in message_id):
        raise ValueError("message_id must be non-empty printable ASCII without spaces")
    if timestamp is None:
        timestamp = int(time.time())
    signed = f"{message_id}.{int(timestamp)}.".encode() + body
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": f"v1,{digest}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def verify(
    body: bytes,
    header: str,
    secret: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> bool:
    """Whether ``header`` is a valid, fresh ``X-Thirdway-Signature`` for ``body``.

    False for a malformed header, a timestamp more than ``tolerance_seconds`` away from
    ``now`` (default: the current time), or no ``v1`` value matching. Compares in constant
    time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if now is None:
        now = int(time.time())
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign(body, secret, timestamp).encode()
    matched = False
    for candidate in candidates:
        # Every candidate is compared, so timing does not tell which one matched.
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched


# --------------------------------------------------------------------------------------------
# Delivery


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one delivery.

    ``ok`` only for a 2xx answer. ``status_code`` is the last HTTP status received (None when
    no answer came). ``error`` says why it was not delivered (None when ``ok``). ``refused``
    is True when Thirdway refused the target itself (SSRF guard, bad URL or redirect), which
    retrying will not change. ``response_body`` holds at most the first 64 KiB of the answer.
    """

    ok: bool
    status_code: int | None
    error: str | None
    final_url: str
    elapsed_ms: int
    refused: bool = False
    response_body: bytes = b""


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """certifi's CAs with hostname checks; built once, as loading the CAs takes a while."""
    return httpx.create_ssl_context()


def _parse_target(url: str | httpx.URL) -> httpx.URL:
    """The URL, parsed, or :class:`TargetRefused` when it is not a webhook target at all."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise TargetRefused(f"{url!s} is not a valid URL: {exc}") from None
    if parsed.scheme not in _SCHEMES:
        shown = parsed.scheme or "(none)"
        raise TargetRefused(f"only http and https webhook URLs are allowed, not {shown}")
    if parsed.userinfo:
        raise TargetRefused(
            "webhook URLs may not carry a user name or password; "
            "the receiver should check the X-Thirdway-Signature header instead",
            host=parsed.host,
        )
    if not parsed.host:
        raise TargetRefused(f"{url!s} has no host")
    return parsed


def _shown(url: httpx.URL) -> str:
    return str(url.copy_with(fragment=None))


def _outgoing_headers(
    url: httpx.URL, headers: typing.Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    out = [(b"Host", url.netloc)]
    names = set()
    for name, value in headers.items():
        if name.lower() in _OWN_HEADERS:
            continue
        names.add(name.lower())
        out.append((name.encode("ascii"), value.encode("ascii")))
    if "user-agent" not in names:
        out.append((b"User-Agent", USER_AGENT.encode()))
    if "content-type" not in names:
        out.append((b"Content-Type", b"application/json"))
    return out


def _post(
    pool: httpcore.ConnectionPool,
    url: httpx.URL,
    body: bytes,
    headers: typing.Mapping[str, str],
    timeout: float,
) -> tuple[int, dict[str, str], bytes]:
    target = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    extensions = {
        "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    }
    with pool.stream(
        "POST", target, headers=_outgoing_headers(url, headers), content=body, extensions=extensions
    ) as response:
        answer_headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in response.headers
        }
        received = bytearray()
        for chunk in response.iter_stream():
            received += chunk
            if len(received) >= MAX_RESPONSE_BYTES:
                del received[MAX_RESPONSE_BYTES:]
                break  # the rest is never read; closing drops the connection
        return response.status, answer_headers, bytes(received)


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        nxt = current.join(location)
    except (httpx.InvalidURL, ValueError) as exc:
        raise TargetRefused(f"the redirect to {location!r} is not a valid URL: {exc}") from None
    nxt = _parse_target(nxt)
    if current.scheme == "https" and nxt.scheme == "http":
        raise TargetRefused(
            f"refusing to follow a redirect from https down to plain http ({_shown(nxt)})",
            host=nxt.host,
        )
    return nxt


def deliver(
    url: str,
    body: bytes,
    headers: typing.Mapping[str, str],
    *,
    allowed_hosts: frozenset[str] = frozenset(),
    timeout: float = 10,
    max_redirects: int = 3,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST ``body`` with ``headers`` to ``url``, guarded against reaching internal addresses.

    Never raises for network trouble or a refused target: the result says what happened.
    ``headers`` normally come from :func:`build_headers`; ``Host`` and ``Content-Length`` are
    always set here from the URL and body. ``timeout`` is the budget in seconds for the whole
    delivery, redirects included. ``ssl_context`` replaces the default (certifi's CAs with
    hostname checks), e.g. to trust a practice's own CA.
    """
    started = time.monotonic()
    deadline = started + timeout

    def result(
        ok: bool,
        status: int | None,
        error: str | None,
        at: httpx.URL | str,
        *,
        refused: bool = False,
        response_body: bytes = b"",
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=ok,
            status_code=status,
            error=error,
            final_url=at if isinstance(at, str) else _shown(at),
            elapsed_ms=round((time.monotonic() - started) * 1000),
            refused=refused,
            response_body=response_body,
        )

    try:
        current = _parse_target(url)
    except TargetRefused as exc:
        return result(False, None, str(exc), str(url), refused=True)

    backend = _GuardedBackend(frozenset(allowed_hosts), deadline)
    pool = httpcore.ConnectionPool(
        ssl_context=ssl_context if ssl_context is not None else _default_ssl_context(),
        network_backend=backend,
        retries=0,
    )
    redirects = 0
    with pool:
        while True:
            # Every hop is checked against the allow-list on its own host, port and scheme.
            backend.scheme = current.scheme
            try:
                status, answer_headers, received = _post(pool, current, body, headers, timeout)
            except TargetRefused as exc:
                return result(False, None, str(exc), current, refused=True)
            except httpcore.TimeoutException as exc:
                error = f"timed out after {timeout:g}s sending to {_shown(current)}"
                detail = str(exc)
                if detail and detail != "timed out":
                    error += f" ({detail})"
                return result(False, None, error, current)
            except (
                httpcore.NetworkError,
                httpcore.ProtocolError,
                httpcore.UnsupportedProtocol,
            ) as exc:
                error = f"could not deliver to {_shown(current)}: {exc or type(exc).__name__}"
                return result(False, None, error, current)

            if 200 <= status < 300:
                return result(True, status, None, current, response_body=received)

            location = answer_headers.get("location")
            if status in _FOLLOWED_REDIRECTS:
                if not location:
                    error = f"{_shown(current)} answered {status} without a Location header"
                    return result(False, status, error, current, response_body=received)
                if redirects >= max_redirects:
                    error = f"gave up after {max_redirects} redirects, at {_shown(current)}"
                    return result(False, status, error, current, response_body=received)
                try:
                    current = _redirect_target(current, location)
                except TargetRefused as exc:
                    return result(False, status, str(exc), location, refused=True)
                redirects += 1
                continue

            if status in _REPORTED_REDIRECTS:
                error = (
                    f"{_shown(current)} answered {status} with a redirect to {location or '?'}; "
                    "webhooks only follow 307 and 308 redirects, which keep the POST and its "
                    "body, so the webhook URL should be changed to the new address"
                )
            else:
                error = f"{_shown(current)} answered {status}"
            return result(False, status, error, current, response_body=received)
