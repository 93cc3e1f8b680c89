"""The server's DNS answer check: ask for a name's records of one type and compare the answer
with the value expected.

The question goes to the system's resolver (``/etc/resolv.conf``) or to a resolver given by its
address.  A resolver given is an address, never a name (nothing to resolve, nothing to rebind),
and it goes through the same guard as every probe: a private, loopback or link-local resolver is
refused unless a practice admin allowed it for the check (then exactly that address and port).
"""

from __future__ import annotations

import ipaddress
import time

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from thirdway.errors import invalid
from thirdway.monitoring.engine import Status
from thirdway.monitoring.models import Check
from thirdway.monitoring.probes import Seen
from thirdway.tickets.webhooks.guard import refusal_reason

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")
MAX_NAME = 253
DNS_PORT = 53
ALLOWED_PRIVATE = "a public resolver, or ask a practice admin to allow this private resolver"


def normalised(text: str) -> str:
    """An answer as compared: lower case, no final dot, a TXT record's quotes joined."""
    text = text.strip()
    if text.startswith('"'):
        text = "".join(part for part in text.split('"') if part.strip())
    return text.lower().rstrip(".")


def _matches(answers: list[str], expected: str, record_type: str) -> bool:
    wanted = normalised(expected)
    for answer in answers:
        seen = normalised(answer)
        if seen == wanted:
            return True
        if record_type == "MX" and seen.split(" ", 1)[-1] == wanted:  # the host without its rank
            return True
        if record_type in ("A", "AAAA"):
            try:
                if ipaddress.ip_address(seen) == ipaddress.ip_address(wanted):
                    return True
            except ValueError:
                pass
    return False


def allowance(check: Check) -> str:
    host = check.resolver
    port = check.port or DNS_PORT
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def validate(check: Check) -> None:
    name = check.target.strip().rstrip(".")
    if not name or len(name) > MAX_NAME or any(ch in name for ch in "/ @?#\\"):
        raise invalid("target", "Give the name to look up.", "a DNS name, e.g. mail.example.com")
    try:
        dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        raise invalid("target", f"That is not a DNS name: {exc}.", "e.g. mail.example.com") from exc
    if check.record_type not in RECORD_TYPES:
        raise invalid("record_type", "Choose a record type.", ", ".join(RECORD_TYPES))
    if len(check.expected_answer) > 255:
        raise invalid("expected_answer", "The expected value is too long.", "at most 255 chars")
    if not check.resolver:
        if check.port is not None:
            raise invalid("port", "A port is for a resolver given.", "blank, or give a resolver")
        return
    try:
        address = ipaddress.ip_address(check.resolver)
    except ValueError as exc:
        raise invalid(
            "resolver", "Give the resolver's address.", "an IP address, e.g. 9.9.9.9"
        ) from exc
    if not check.allow_private_target:
        reason = refusal_reason(address)
        if reason is not None:
            raise invalid("resolver", f"{address} is {reason}.", ALLOWED_PRIVATE)


def _resolver(check: Check, timeout: float) -> dns.resolver.Resolver:
    if check.resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [check.resolver]
        resolver.port = check.port or DNS_PORT
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def probe(check: Check, timeout: float) -> Seen:
    """Ask, and compare; the value is the time the answer took in ms."""
    if check.resolver and not check.allow_private_target:
        reason = refusal_reason(check.resolver)
        if reason is not None:
            return Seen(Status.UNKNOWN, f"Not checked: the resolver {check.resolver} is {reason}.")
    name, kind = check.target.strip(), check.record_type
    started = time.monotonic()
    try:
        resolver = _resolver(check, timeout)
        answer = resolver.resolve(name, kind, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Seen(Status.CRITICAL, f"{name} does not exist (NXDOMAIN).")
    except dns.resolver.NoResolverConfiguration:
        return Seen(Status.UNKNOWN, "The server has no resolver configured.")
    except dns.resolver.LifetimeTimeout:
        return Seen(Status.CRITICAL, f"No answer within {timeout:g} s.")
    except dns.resolver.NoNameservers as exc:
        return Seen(Status.CRITICAL, f"The resolver failed: {exc}"[:500])
    except dns.exception.DNSException as exc:
        return Seen(Status.CRITICAL, f"The lookup failed: {exc}"[:500])
    took = round((time.monotonic() - started) * 1000, 1)
    found = sorted(rdata.to_text() for rdata in answer.rrset) if answer.rrset else []
    shown = ", ".join(found)[:300]
    if not found:
        return Seen(Status.CRITICAL, f"No {kind} record for {name}.", took)
    if check.expected_answer and not _matches(found, check.expected_answer, kind):
        text = f"{kind} {name}: {shown}; expected {check.expected_answer}."
        return Seen(Status.CRITICAL, text[:500], took)
    return Seen(Status.OK, f"{kind} {name}: {shown} ({took:g} ms)."[:500], took)
