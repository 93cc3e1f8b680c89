"""The security headers every answer of the test clients is checked for.

Every HTML page carries the Content-Security-Policy below, and every answer to a signed-in
person or a bearer token says ``Cache-Control: no-store, private``.  The check runs on every
request the page and API tests make, so a new page is covered by the test that reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response: HttpResponseBase) -> dict[str, str]:
    """The directives of an answer's Content-Security-Policy, by name."""
    header = response.get("Content-Security-Policy", "")
    directives = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in directives}


def _policy_kept(response: HttpResponseBase) -> bool:
    """Our policy, or a stricter one of the answer's own (a file downloaded is sandboxed)."""
    policy = policy_of(response)
    return policy == POLICY or (policy.get("default-src") == "'none'" and "sandbox" in policy)


def header_problems(response: HttpResponseBase) -> list[str]:
    """What an answer lacks of the headers it owes."""
    problems = []
    if response.get("Content-Type", "").startswith("text/html") and not _policy_kept(response):
        problems.append(f"Content-Security-Policy is {response.get('Content-Security-Policy')!r}")
    request = getattr(response, "wsgi_request", None)
    user = getattr(request, "user", None)
    private = user is not None and user.is_authenticated
    if private and response.get("Cache-Control") != "no-store, private":
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r} for {user}")
    return problems


@pytest.fixture(autouse=True)
def security_headers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any request of a test client whose answer lacks the headers it owes."""
    send = HttpClient.request

    def request_with_headers_checked(client: HttpClient, **environ: Any) -> HttpResponseBase:
        response = send(client, **environ)
        problems = header_problems(response)
        where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
        assert not problems, f"{where}: " + "; ".join(problems)
        return response

    monkeypatch.setattr(HttpClient, "request", request_with_headers_checked)
    yield
