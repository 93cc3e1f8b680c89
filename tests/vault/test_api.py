"""The vault's API: every endpoint answers each role as the rules say (404 outside one's
scope, deny by default), the reveal is a POST with a reason answered with no-store, and bad
input is a 400 naming the field with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from support.api import API, ROLES
from support.vault import SECRET
from thirdway.audit.models import Source
from thirdway.vault.models import Credential, CredentialAccess, Document, ExpiryItem
from thirdway.vault.services import documents, expirations

NETWORK_OF_ACME = {"admin", "partner", "associate", "desk"}
KEEPERS = {"admin", "partner", "desk"}
# Who sees each of Acme's records (the credential is not shared with Acme's admins; the page is
# shown to them; the expiring item is Acme's).
SEES = {
    "credential": NETWORK_OF_ACME,
    "document": NETWORK_OF_ACME | {"client_admin"},
    "expiry": NETWORK_OF_ACME | {"client_admin"},
}


@pytest.fixture
def vault(cast, firewall):
    page = documents.create_document(
        cast.partner,
        cast.acme,
        title="Wi-Fi",
        visibility="client_admins",
        body="Staff network",
        source=Source.CLI,
    )
    item = expirations.create_expiry(
        cast.partner,
        cast.acme,
        kind="certificate",
        name="www.acme.example",
        expires_on=dt.date.today() + dt.timedelta(days=40),
        source=Source.CLI,
    )
    return {"credential": firewall, "document": page, "expiry": item}


def _send(client, method, url, payload=None):
    if payload is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(payload), content_type="application/json")


def _reads(vault) -> dict[str, list[str]]:
    c, d, e = (vault[k].pk for k in ("credential", "document", "expiry"))
    return {
        "credential": [f"{API}/vault/credentials/{c}"],
        "document": [f"{API}/vault/documents/{d}", f"{API}/vault/documents/{d}/versions"],
        "expiry": [f"{API}/vault/expirations/{e}"],
    }


def _writes(cast, vault) -> dict[str, list[tuple[str, str, dict]]]:
    c, d, e = (vault[k].pk for k in ("credential", "document", "expiry"))
    return {
        "credential": [
            ("put", f"{API}/vault/credentials/{c}", {"name": "Firewall"}),
        ],
        "document": [
            (
                "put",
                f"{API}/vault/documents/{d}",
                {"title": "Wi-Fi", "visibility": "client_admins"},
            ),
        ],
        "expiry": [
            (
                "put",
                f"{API}/vault/expirations/{e}",
                {"kind": "certificate", "name": "www", "expires_on": "2031-01-01"},
            ),
            ("post", f"{API}/vault/expirations/{e}/acknowledge", None),
            (
                "post",
                f"{API}/vault/expirations/{e}/snooze",
                {"until": str(dt.date.today() + dt.timedelta(days=3))},
            ),
        ],
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_what_it_sees_and_gets_404_for_everything_else(cast, api_as, vault, role):
    client = api_as(getattr(cast, role))
    for kind, urls in _reads(vault).items():
        for url in urls:
            assert client.get(url).status_code == (200 if role in SEES[kind] else 404), url
    lists = {
        "credential": f"{API}/vault/credentials",
        "document": f"{API}/vault/documents",
        "expiry": f"{API}/vault/expirations",
    }
    for kind, url in lists.items():
        ids = [row["id"] for row in client.get(url).json()["items"]]
        assert ids == ([vault[kind].pk] if role in SEES[kind] else []), url
        filtered = client.get(f"{url}?client={cast.globex.pk}").json()["items"]
        assert filtered == [] or role in {"admin", "desk", "other_partner", "other_client_admin"}


@pytest.mark.parametrize("role", ROLES)
def test_each_write_answers_each_role_as_the_rules_say(cast, api_as, vault, role):
    client = api_as(getattr(cast, role))
    for kind, writes in _writes(cast, vault).items():
        for method, url, payload in writes:
            status = _send(client, method, url, payload).status_code
            expected = 200 if role in KEEPERS else (403 if role in SEES[kind] else 404)
            assert status == expected, (method, url, status)
    creates = [
        ("credentials", {"client": cast.acme.pk, "name": "New"}),
        ("documents", {"client": cast.acme.pk, "title": "New"}),
        (
            "expirations",
            {"client": cast.acme.pk, "kind": "other", "name": "New", "expires_on": "2030-01-01"},
        ),
    ]
    for path, payload in creates:
        status = _send(client, "post", f"{API}/vault/{path}", payload).status_code
        sees_acme = role in NETWORK_OF_ACME | {"client_admin", "client_user"}
        # A client id out of sight is a 400 naming the field, as everywhere in the API.
        assert status == (201 if role in KEEPERS else 403 if sees_acme else 400), (path, status)


@pytest.mark.parametrize("role", ROLES)
def test_the_reveal_answers_only_who_sees_the_credential(cast, api_as, vault, role):
    url = f"{API}/vault/credentials/{vault['credential'].pk}/reveal"
    response = _send(api_as(getattr(cast, role)), "post", url, {"reason": "Checking the VPN"})
    if role in SEES["credential"]:
        assert response.status_code == 200
        assert response.json()["secret"] == SECRET
        assert len(response.json()["totp"]["code"]) == 6
        assert "no-store" in response["Cache-Control"]
    else:
        assert response.status_code == 404
        assert SECRET not in response.content.decode()


def test_a_reveal_without_a_reason_is_a_400_and_is_not_recorded(cast, api_as, firewall):
    client = api_as(cast.partner)
    url = f"{API}/vault/credentials/{firewall.pk}/reveal"
    for payload in ({}, {"reason": "ab"}, {"reason": "x" * 251}):
        response = _send(client, "post", url, payload)
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == ["reason"]
    assert not CredentialAccess.objects.exists()


def test_a_credential_made_through_the_api_is_sealed_and_a_change_keeps_its_secret(
    cast, api_as, master_key
):
    client = api_as(cast.partner)
    made = _send(
        client,
        "post",
        f"{API}/vault/credentials",
        {"client": cast.acme.pk, "name": "NAS", "secret": "nas-pass", "site": cast.acme_site.pk},
    )
    assert made.status_code == 201 and "secret" not in made.json()
    pk = made.json()["id"]
    changed = _send(client, "put", f"{API}/vault/credentials/{pk}", {"name": "NAS 2"})
    assert changed.json()["name"] == "NAS 2"
    shown = _send(client, "post", f"{API}/vault/credentials/{pk}/reveal", {"reason": "Backup job"})
    assert shown.json()["secret"] == "nas-pass"


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("credentials", {"name": "X", "site": "@globex_site"}, "site"),
        ("credentials", {"name": "X", "totp_seed": "nope!"}, "totp_seed"),
        ("documents", {"title": ""}, "title"),
        ("documents", {"title": "X", "asset": "@globex_laptop"}, "asset"),
        (
            "expirations",
            {"kind": "domain", "name": "d", "expires_on": "2030-01-01", "reminder_steps": "1,2,x"},
            "reminder_steps",
        ),
        ("expirations", {"kind": "forever", "name": "d", "expires_on": "2030-01-01"}, "kind"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_with_nothing_written(
    cast, api_as, master_key, path, payload, field
):
    resolved = {
        key: (
            getattr(cast, value[1:]).pk
            if isinstance(value, str) and value.startswith("@")
            else value
        )
        for key, value in payload.items()
    }
    response = _send(
        api_as(cast.admin), "post", f"{API}/vault/{path}", {"client": cast.acme.pk, **resolved}
    )
    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Credential.objects.exists()
    assert not Document.objects.exists()
    assert not ExpiryItem.objects.exists()


def test_a_closed_vault_answers_503_saying_why(cast, api_as, firewall, settings, tmp_path):
    settings.VAULT_MASTER_KEY_FILE = str(tmp_path / "missing.key")
    response = _send(
        api_as(cast.partner),
        "post",
        f"{API}/vault/credentials/{firewall.pk}/reveal",
        {"reason": "Checking it"},
    )
    assert response.status_code == 503
    assert "does not exist" in response.json()["detail"]
    assert not CredentialAccess.objects.exists()


def test_a_page_saved_again_keeps_versions_and_search_finds_it(cast, api_as, vault):
    client = api_as(cast.partner)
    url = f"{API}/vault/documents/{vault['document'].pk}"
    _send(
        client,
        "put",
        url,
        {"title": "Wi-Fi", "visibility": "client_admins", "markdown": "Guest network"},
    )
    versions = client.get(f"{url}/versions").json()["items"]
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[1]["body"] == "Staff network"
    assert [d["id"] for d in client.get(f"{API}/vault/documents?q=guest").json()["items"]] == [
        vault["document"].pk
    ]
    assert client.get(f"{API}/vault/documents?q=staff").json()["items"] == []


def test_every_vault_endpoint_answers_401_without_a_token(cast, client):
    schema = client.get(f"{API}/openapi.json").json()
    tried = 0
    for url, methods in schema["paths"].items():
        if not url.startswith(f"{API}/vault/") or url.startswith(f"{API}/vault/files"):
            continue  # files: tests/vault/test_files_access.py
        for method in methods:
            path = re.sub(r"\{[a-z_]+\}", "1", url)
            response = _send(client, method, path, None if method == "get" else {})
            assert response.status_code == 401, (method, url)
            tried += 1
    assert tried == 17
