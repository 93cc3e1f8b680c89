"""Who the API takes a request from: a valid token or a signed-in session with its CSRF token.
Anything else is a 401 that says how to authenticate, whatever the method."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from support.api import API
from thirdway.accounts import services as accounts
from thirdway.audit.models import AuditRecord, Source
from thirdway.network.models import Absence

UNAUTHENTICATED = {"detail": "Send a valid API token: Authorization: Bearer tw_..."}


def _requests(cast) -> list[tuple[str, str, dict]]:
    absence = Absence.objects.get(partner=cast.other_partner_record)
    return [
        ("get", f"{API}/me", {}),
        ("get", f"{API}/clients", {}),
        ("post", f"{API}/tickets", {"client": cast.acme.pk, "subject": "Printer", "body": "Jam"}),
        ("patch", f"{API}/clients/{cast.acme.pk}", {"name": "Renamed"}),
        ("delete", f"{API}/absences/{absence.pk}", {}),
    ]


def _send(http: HttpClient, method: str, url: str, body: dict):
    if method in {"get", "delete"}:
        return getattr(http, method)(url)
    return getattr(http, method)(url, body, content_type="application/json")


def _revoked_secret(cast) -> str:
    token, secret = accounts.issue_token(cast.partner, "old laptop", source=Source.CLI)
    accounts.revoke_token(cast.partner, token, source=Source.CLI)
    return secret


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer x", "Bearer", "Basic cGF1bGE6cGFzcw==", "Bearer tw_unknown", "revoked"],
)
def test_a_request_without_a_valid_token_is_a_401_whatever_its_method(cast, authorization):
    if authorization == "revoked":
        authorization = f"Bearer {_revoked_secret(cast)}"
    headers = {"Authorization": authorization} if authorization else {}
    http = HttpClient(enforce_csrf_checks=True, headers=headers)
    before = AuditRecord.objects.count()

    for method, url, body in _requests(cast):
        response = _send(http, method, url, body)
        assert response.status_code == 401, (method, url, response.content)
        assert response.json() == UNAUTHENTICATED
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="thirdway"')
        assert ('error="invalid_token"' in challenge) == (authorization is not None)

    assert AuditRecord.objects.count() == before
    assert cast.acme.__class__.objects.get(pk=cast.acme.pk).name != "Renamed"


def test_a_bad_token_is_a_401_even_beside_a_signed_in_session(cast):
    http = HttpClient(enforce_csrf_checks=True, headers={"Authorization": "Bearer x"})
    http.force_login(cast.admin)

    for method, url, body in _requests(cast):
        assert _send(http, method, url, body).status_code == 401, (method, url)


def test_a_signed_in_session_still_needs_the_csrf_token_to_write(cast):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(cast.admin)
    http.get("/")
    token = http.cookies["csrftoken"].value

    assert http.get(f"{API}/me").status_code == 200
    for method, url, body in _requests(cast)[2:]:
        assert _send(http, method, url, body).status_code == 403, (method, url)
    renamed = http.patch(
        f"{API}/clients/{cast.acme.pk}",
        {"name": "Acme Bakery Ltd"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert renamed.status_code == 200, renamed.content


def test_a_valid_token_writes_without_a_csrf_token(cast):
    _, secret = accounts.issue_token(cast.admin, "script", source=Source.CLI)
    http = HttpClient(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})

    response = http.patch(
        f"{API}/clients/{cast.acme.pk}",
        {"name": "Acme Bakery Ltd"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
