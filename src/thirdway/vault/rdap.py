"""A domain's expiry date from its registry's RDAP service (RFC 9083), found through IANA's
bootstrap list for the DNS (RFC 9224).

Every request goes through the webhooks' guarded network backend
(``tickets.webhooks.guard``): the host is resolved once, each address is checked, and only a
public address is connected to unless its host and port are on the allow-list.  Answers are
read up to ``MAX_BODY`` bytes; at most ``MAX_REDIRECTS`` redirects are followed (each hop
checked again, never from https down to http).  Nothing here imports Django: the caller passes
the settings and the bootstrap cache.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpcore
import httpx

from thirdway.tickets.webhooks.guard import GuardedBackend, TargetRefused

MAX_BODY = 4 * 1024 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "Thirdway-RDAP/1"
REDIRECTS = {301, 302, 303, 307, 308}
# The registry's own date first; a registrar's date when the registry gives none.
EXPIRY_EVENTS = ("expiration", "registrar expiration")


class RdapError(Exception):
    """The lookup could not be made or read, in plain words."""


@dataclass(frozen=True)
class Found:
    """``expires_on`` None: RDAP answered but has no expiry date (enter it by hand)."""

    expires_on: dt.date | None
    source: str


def normal_domain(name: str) -> str:
    """The domain in its ASCII form, lower case, without a final dot; or RdapError."""
    text = name.strip().rstrip(".").lower()
    if not text or len(text) > 253 or "." not in text:
        raise RdapError(f"“{name[:100]}” is not a domain name (e.g. example.org).")
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise RdapError(f"“{name[:100]}” is not a domain name.") from None
    labels = ascii_name.split(".")
    if any(
        not label or len(label) > 63 or not all(c.isalnum() or c == "-" for c in label)
        for label in labels
    ):
        raise RdapError(f"“{name[:100]}” is not a domain name.")
    return ascii_name


def services_for(bootstrap: dict, domain: str) -> list[str]:
    """The RDAP base URLs of the longest TLD-suffix entry of the bootstrap list matching."""
    labels = domain.split(".")
    best: tuple[int, list[str]] = (0, [])
    for entry in bootstrap.get("services", []):
        if not (isinstance(entry, list) and len(entry) == 2):
            continue
        suffixes, urls = entry
        for suffix in suffixes:
            size = len(str(suffix).split("."))
            if size > best[0] and labels[-size:] == str(suffix).lower().split("."):
                best = (size, [u for u in urls if isinstance(u, str)])
    # https first: the bootstrap list may also offer plain http.
    return sorted(best[1], key=lambda url: not url.startswith("https://"))


def expiry_of(answer: dict) -> dt.date | None:
    """The expiry date in an RDAP domain answer: the registry's event preferred."""
    events = answer.get("events")
    if not isinstance(events, list):
        return None
    for action in EXPIRY_EVENTS:
        for event in events:
            if isinstance(event, dict) and event.get("eventAction") == action:
                when = event.get("eventDate")
                if isinstance(when, str):
                    try:
                        return dt.datetime.fromisoformat(when.replace("Z", "+00:00")).date()
                    except ValueError:
                        continue
    return None


def get_json(url: str, *, allowed: frozenset[str], timeout: float) -> dict:
    """GET ``url`` through the guard, following a few redirects; the JSON object answered."""
    deadline = time.monotonic() + timeout
    current = _parse(url)
    for _ in range(MAX_REDIRECTS + 1):
        backend = GuardedBackend(allowed, deadline)
        backend.scheme = current.scheme
        status, location, body = _get(current, backend, timeout)
        if status in REDIRECTS and location:
            nxt = _parse(str(current.join(location)))
            if current.scheme == "https" and nxt.scheme == "http":
                raise RdapError(f"{current.host} redirected from https down to http.")
            current = nxt
            continue
        if status == 404:
            raise RdapError(f"{current.host} does not know this domain (404).")
        if status != 200:
            raise RdapError(f"{current.host} answered {status}.")
        try:
            found = json.loads(body)
        except ValueError:
            raise RdapError(f"{current.host} did not answer JSON.") from None
        if not isinstance(found, dict):
            raise RdapError(f"{current.host} did not answer a JSON object.")
        return found
    raise RdapError(f"Gave up after {MAX_REDIRECTS} redirects.")


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise RdapError(f"Not a URL: {url[:200]!r}.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RdapError(f"Only http and https RDAP URLs are used, not {url[:200]!r}.")
    return parsed


def _get(url: httpx.URL, backend: GuardedBackend, timeout: float) -> tuple[int, str, bytes]:
    pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=backend, retries=0
    )
    target = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    headers = [
        (b"Host", url.netloc),
        (b"User-Agent", USER_AGENT.encode()),
        (b"Accept", b"application/rdap+json, application/json"),
    ]
    limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    try:
        with (
            pool,
            pool.stream("GET", target, headers=headers, extensions={"timeout": limits}) as answer,
        ):
            body = bytearray()
            for chunk in answer.iter_stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise RdapError(f"{url.host} answered more than {MAX_BODY} bytes.")
            location = next((v for k, v in answer.headers if k.lower() == b"location"), b"")
            return answer.status, location.decode("latin-1"), bytes(body)
    except TargetRefused as refused:
        raise RdapError(f"Refused by the address check: {refused}") from None
    except httpcore.TimeoutException:
        raise RdapError(f"{url.host} did not answer within {timeout:g} s.") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as err:
        raise RdapError(f"Could not reach {url.host}: {err or type(err).__name__}.") from None


def lookup(
    name: str,
    *,
    bootstrap: Callable[[], dict],
    allowed: frozenset[str],
    timeout: float,
) -> Found:
    """The domain's expiry date from the first RDAP service of its TLD that answers."""
    domain = normal_domain(name)
    urls = services_for(bootstrap(), domain)
    if not urls:
        raise RdapError(f"No RDAP service is listed for .{domain.rsplit('.', 1)[-1]}.")
    failures = []
    for base in urls:
        url = base.rstrip("/") + "/domain/" + domain
        try:
            answer = get_json(url, allowed=allowed, timeout=timeout)
        except RdapError as error:
            failures.append(str(error))
            continue
        return Found(expiry_of(answer), _parse(base).host)
    raise RdapError(" ".join(failures)[:280])
