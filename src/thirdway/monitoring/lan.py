"""Agent checks of devices on the client's network (ping, TCP port, HTTP(S) with TLS expiry):
what a valid one looks like.  They reach private addresses on purpose, from the client's own
machine, so the server's guard against private targets does not apply to them."""

from __future__ import annotations

from urllib.parse import urlsplit

from thirdway.errors import invalid
from thirdway.monitoring.models import Check, CheckKind

# The longest host name DNS allows.
MAX_HOST = 253
HOST_EXAMPLE = "a host name or address, e.g. printer.lan or 192.168.1.20"


def _host_problem(host: str) -> str:
    if not host:
        return "Give the device's host name or address."
    if len(host) > MAX_HOST:
        return f"A host name has at most {MAX_HOST} characters."
    if any(ch in host for ch in "/ @?#\\") or host.startswith("-"):
        return "That is not a host name or an address."
    return ""


def validate_lan_check(check: Check) -> None:
    """Target, port and timeout of a LAN check; a clear refusal naming the field."""
    if check.kind == CheckKind.AGENT_HTTP:
        parts = urlsplit(check.target.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid("target", "Give the full address to check.", "an http:// or https:// URL")
        if parts.username or parts.password:
            raise invalid("target", "The URL carries credentials.", "a URL without user:password@")
        problem = _host_problem(parts.hostname)
        try:
            parts.port  # noqa: B018 - a port out of range raises here
        except ValueError:
            problem = "The URL's port is not a number from 1 to 65535."
    else:
        problem = _host_problem(check.target.strip().strip("[]"))
    if problem:
        raise invalid("target", problem, HOST_EXAMPLE)
    if check.kind == CheckKind.AGENT_TCP and check.port is None:
        raise invalid("port", "Give the port to connect to.", "a port from 1 to 65535")
    if check.port is not None and not 1 <= check.port <= 65535:
        raise invalid("port", "That is not a port.", "a port from 1 to 65535")
    if not 1 <= check.timeout_seconds <= 60:
        raise invalid("timeout_seconds", "Choose a timeout.", "1 to 60 seconds")
