"""Helpers of the API tests: the roles of the cast, objects by name, requests and database state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import Client as HttpClient

from thirdway.accounts.models import ApiToken, User
from thirdway.audit.models import AuditRecord
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Absence, Partner, Practice, Skill

API = "/api/v1"

# Every signed-in role of the cast, as attribute names of the ``cast`` fixture.
NETWORK = ("admin", "partner", "other_partner", "associate", "desk")
CONTACTS = ("client_admin", "client_user", "other_client_admin", "other_client_user")
ROLES = (*NETWORK, *CONTACTS, "outsider")

# Short names of the cast's objects, used in the tables of the tests.
ALIASES = {
    "paula": "partner_record",
    "oscar": "other_partner_record",
    "ada": "associate_record",
    "dean": "desk_record",
    "alice": "acme_admin_contact",
    "bob": "acme_user_contact",
    "gina": "globex_admin_contact",
    "hank": "globex_user_contact",
    "bob_laptop": "acme_laptop",
    "hank_laptop": "globex_laptop",
}


def obj(cast, name: str):
    """An object of the cast by its short name (``oscar_vacation`` is the one absence)."""
    if name == "oscar_vacation":
        return Absence.objects.get(partner=cast.other_partner_record)
    return getattr(cast, ALIASES.get(name, name))


def pk(cast, name: str) -> int:
    return obj(cast, name).pk


def resolve(cast, value: Any) -> Any:
    """Replace each ``"@name"`` in a payload by the id of that object of the cast."""
    if isinstance(value, str) and value.startswith("@"):
        return pk(cast, value[1:])
    if isinstance(value, list):
        return [resolve(cast, item) for item in value]
    if isinstance(value, dict):
        return {key: resolve(cast, item) for key, item in value.items()}
    return value


def path(cast, template: str) -> str:
    """``/partners/{paula}`` with the id of Paula's partner record, under /api/v1."""
    names = {part.split("}")[0] for part in template.split("{")[1:] if "}" in part}
    return API + template.format(**{name: pk(cast, name) for name in names})


def send(client: HttpClient, method: str, url: str, payload: Any = None):
    """One JSON request; ``payload`` None sends no body."""
    call = getattr(client, method.lower())
    if payload is None:
        return call(url)
    return call(url, data=json.dumps(payload), content_type="application/json")


def ids(response) -> set[int]:
    """The ids of a page of a list endpoint."""
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


MODELS = (User, ApiToken, Practice, Partner, Skill, Absence, Client, Site, Contact, Asset)


def state() -> dict[str, list[dict]]:
    """Every row the API can write, plus the audit trail (token use times aside)."""
    rows = {}
    for model in MODELS:
        values = list(model.objects.order_by("pk").values())
        if model is ApiToken:
            for row in values:
                row.pop("last_used_at")
        rows[model._meta.label] = values
    rows["team"] = list(Client.team.through.objects.order_by("pk").values())
    rows["audit"] = list(AuditRecord.objects.order_by("pk").values())
    return rows


@contextmanager
def nothing_written() -> Iterator[None]:
    """Assert that the block leaves every row and the audit trail as they were."""
    before = state()
    yield
    assert state() == before


def assert_refused(response, *fields: str) -> list[dict]:
    """A 400 whose errors name each of ``fields``, and all of which say what is allowed."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Invalid input."
    for error in body["errors"]:
        assert isinstance(error["allowed"], str) and error["allowed"].strip(), body
        assert error["problem"], body
    named = {error["field"] for error in body["errors"]}
    for field in fields:
        # A field, or a place inside it such as ``working_hours.mon.0``.
        assert any(name == field or name.startswith(f"{field}.") for name in named), body
    return body["errors"]
