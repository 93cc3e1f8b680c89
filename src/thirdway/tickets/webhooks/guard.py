"""The guard of webhook deliveries against server-side request forgery: which addresses a
webhook may reach, a practice admin's allow-list, and the network backend that resolves a host
once and connects only to an address it checked (see ``outbound`` for the whole story).

Self-contained like ``outbound``: nothing from Django or the rest of Thirdway is imported.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
import typing
from urllib.parse import urlsplit

import httpcore

_ASK_ADMIN = "ask a practice admin to allow this target"


# --------------------------------------------------------------------------------------------
# Address checks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_SHARED_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
_PRIVATE_V4 = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class TargetRefused(Exception):
    """A webhook target that may not be contacted, with the reason in plain words.

    ``address`` is the offending IP address when the refusal is about one, else None.
    """

    def __init__(self, message: str, *, host: str = "", address: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host
        self.address = address

    def __str__(self) -> str:
        return self.message


def _embedded_reason(kind: str, embedded: ipaddress.IPv4Address) -> str | None:
    inner = refusal_reason(embedded)
    if inner is None:
        return None
    return f"the {kind} form of {embedded}, {inner}"


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` may not be a webhook target, as a phrase, or None when it may be.

    A pure function: it parses and classifies, it never resolves or connects. The phrase reads
    after "<address> is", e.g. ``"a loopback address"``.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address

    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if ip.ipv4_mapped is not None:
            return _embedded_reason("IPv4-mapped", ip.ipv4_mapped)
        if ip in _NAT64_WELL_KNOWN:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            return _embedded_reason("NAT64", embedded)
        if ip in _NAT64_LOCAL_USE:
            return "a local-use NAT64 address (64:ff9b:1::/48)"
        if ip.sixtofour is not None:
            return _embedded_reason("6to4", ip.sixtofour)
        if ip in _TEREDO:
            return "a Teredo tunnel address (2001::/32)"

    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address):
        if ip in _THIS_NETWORK:
            return 'a "this network" address (0.0.0.0/8)'
        if ip in _SHARED_SPACE:
            return "a shared address space (carrier-grade NAT) address"
        if any(ip in net for net in _PRIVATE_V4):
            return "a private address"
    else:
        if ip in _UNIQUE_LOCAL:
            return "a private (unique local) address"
        if ip in _SITE_LOCAL:
            return "a site-local address"
        if ip in _IPV4_COMPATIBLE:
            return "a deprecated IPv4-compatible address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a special-purpose address that is not publicly routable"
    return None


def check_address(address: str | IPAddress, *, host: str | None = None) -> None:
    """Raise :class:`TargetRefused` when ``address`` may not be a webhook target.

    ``host`` is the name that resolved to ``address``, used only to word the message.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    reason = refusal_reason(ip)
    if reason is None:
        return
    shown = _show_ip(ip)
    if host is None or _same_ip(host, ip):
        message = f"{shown} is {reason}; {_ASK_ADMIN}"
    else:
        message = f"{host} resolves to {shown}, which is {reason}; {_ASK_ADMIN}"
    raise TargetRefused(message, host=host or shown, address=shown)


def _show_ip(ip: IPAddress) -> str:
    """The address as people write it: ``::ffff:127.0.0.1`` rather than ``::ffff:7f00:1``."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


def _same_ip(host: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ip
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------
# Allow-list


def _normal_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_allow_entry(entry: str) -> tuple[str, int | None] | None:
    """(host, port or None when the entry names none), or None for an entry that cannot be
    read."""
    entry = entry.strip()
    try:  # a bare IPv6 literal, which has colons but no port
        return str(ipaddress.IPv6Address(entry)), None
    except ValueError:
        pass
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = entry.partition(":")
    if not host or (port and not (port.isascii() and port.isdigit())):
        return None  # a malformed entry allows nothing rather than a whole host
    return _normal_host(host), int(port) if port else None


def _is_allowed(host: str, port: int, scheme: str, allowed_hosts: typing.Iterable[str]) -> bool:
    """Whether ``host:port``, reached by ``scheme``, is on the allow-list.  An allowance is for
    one host and one port: an entry without a port means the scheme's default port (80 for
    http, 443 for https), never any port."""
    wanted = _normal_host(host)
    for entry in allowed_hosts:
        parsed = _parse_allow_entry(entry)
        if parsed is None:
            continue
        allowed_host, allowed_port = parsed
        if allowed_port is None:
            allowed_port = DEFAULT_PORTS.get(scheme)
        if allowed_host == wanted and allowed_port == port:
            return True
    return False


def allowance_of(url: str) -> str:
    """The allow-list entry for exactly the host and port of ``url`` (the port written, or
    the scheme's default): what a practice admin approves by allowing a webhook's target."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --------------------------------------------------------------------------------------------
# The guarded network backend


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _resolve(host: str, port: int, timeout: float) -> list[tuple[int, str]]:
    """(family, address) pairs for ``host``, resolved once, within ``timeout`` seconds."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))]

    outcome: dict[str, typing.Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            outcome["error"] = exc

    # getaddrinfo has no timeout of its own; a daemon thread keeps the budget honest.
    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(max(timeout, 0))
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than the time allowed")
    if "error" in outcome:
        raise httpcore.ConnectError(f"could not resolve {host}: {outcome['error']}")
    found: list[tuple[int, str]] = []
    for family, _type, _proto, _canon, sockaddr in outcome["infos"]:
        if family in (socket.AF_INET, socket.AF_INET6):
            pair = (family, str(sockaddr[0]))
            if pair not in found:
                found.append(pair)
    if not found:
        raise httpcore.ConnectError(f"{host} resolves to no IPv4 or IPv6 address")
    return found


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose every operation stops at the delivery's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _budget(self, timeout: float | None, exc: type[Exception]) -> float:
        remaining = _remaining(self._deadline)
        if remaining <= 0:
            raise exc("the delivery ran out of time")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = self._budget(timeout, httpcore.ConnectTimeout)
        inner = self._inner.start_tls(ssl_context, server_hostname, budget)
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves once, checks every address, connects only to a checked address.

    ``scheme`` is the scheme of the request being sent (set before each hop of a delivery):
    an allow-list entry without a port stands for that scheme's default port."""

    def __init__(self, allowed_hosts: frozenset[str], deadline: float) -> None:
        self._allowed_hosts = allowed_hosts
        self._deadline = deadline
        self._plain = httpcore.SyncBackend()
        self.scheme = "https"

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        remaining = _remaining(self._deadline)
        if remaining <= 0:
            raise httpcore.ConnectTimeout("the delivery ran out of time")
        addresses = _resolve(host, port, remaining if timeout is None else min(timeout, remaining))
        if not _is_allowed(host, port, self.scheme, self._allowed_hosts):
            for _family, address in addresses:
                check_address(address, host=host)
        last_error: Exception | None = None
        for _family, address in addresses:
            remaining = _remaining(self._deadline)
            if remaining <= 0:
                raise httpcore.ConnectTimeout("the delivery ran out of time")
            try:
                # A literal address: the plain backend connects without resolving anything.
                stream = self._plain.connect_tcp(
                    address,
                    port,
                    timeout=remaining if timeout is None else min(timeout, remaining),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise TargetRefused("unix sockets are never a webhook target")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# The guarded backend under a public name: monitoring's probes of client hosts connect through
# it too, with the same checks and the same allow-list rules.
GuardedBackend = _GuardedBackend
