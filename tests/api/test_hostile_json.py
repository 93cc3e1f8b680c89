"""Hostile JSON on every write of the API, with a valid token (of the practice admin, who may
do most, and of a client's user, who may do least): random JSON values, and objects
with each documented field given a value of any other type. No answer is a server error, and
every refusal has the documented shape (the contract check of ``support.contract`` also holds
each answer to the status codes and bodies the OpenAPI document declares).

The writes are read from the OpenAPI document, so a new endpoint is covered without a change
here; examples are few per endpoint and derandomised, so the test is quick and repeatable.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.api import API, pk

WRITES = ("post", "put", "patch", "delete")
EXAMPLES = 12
# The objects the paths point at, by path parameter (short names of the cast, see
# ``support.api``); ``ticket_id`` and ``webhook_id`` are made by the test, others are 1.
OBJECTS = {
    "practice_id": "security",
    "partner_id": "paula",
    "absence_id": "oscar_vacation",
    "client_id": "acme",
    "site_id": "acme_site",
    "contact_id": "bob",
    "asset_id": "bob_laptop",
}
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
# A value of each JSON type, to give a field one it does not take.
BY_TYPE = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "string": st.text(max_size=30),
    "array": st.lists(SCALARS, max_size=3),
    "object": st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
}


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _types(schema: dict, components: dict) -> set[str]:
    """The JSON types a field's schema takes (all of them when it does not say)."""
    if "$ref" in schema:
        return _types(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        return {kind for option in schema["anyOf"] for kind in _types(option, components)}
    kind = schema.get("type")
    if kind is None:
        return set(BY_TYPE) if "enum" not in schema else {"string"}
    found = set(kind) if isinstance(kind, list) else {kind}
    return found | ({"integer"} if "number" in found else set())


def _wrongly_typed(operation: dict, components: dict) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of the body's documented fields, each of a type it does not take."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {})
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    optional = {}
    for name, field in schema.get("properties", {}).items():
        wrong = [BY_TYPE[kind] for kind in BY_TYPE if kind not in _types(field, components)]
        if wrong:
            optional[name] = st.one_of(wrong)
    return st.fixed_dictionaries({}, optional=optional)


def _assert_documented(response, method: str, url: str) -> None:
    where = f"{method.upper()} {url} answered {response.status_code}: {response.content[:300]!r}"
    assert response.status_code < 500, where
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], where
    if response.status_code in (400, 413, 422):
        assert body["errors"], where
        for error in body["errors"]:
            assert set(error) == {"field", "problem", "allowed"}, where
            assert all(isinstance(value, str) and value for value in error.values()), where


@pytest.fixture
def admin(cast, api_as) -> HttpClient:
    return api_as(cast.admin)


@pytest.fixture
def urls(cast, admin) -> dict[str, int]:
    """The id for each path parameter of the writes."""
    ticket = admin.post(
        f"{API}/tickets",
        data=json.dumps({"client": cast.acme.pk, "subject": "Printer", "body_text": "Jammed"}),
        content_type="application/json",
    )
    webhook = admin.post(
        f"{API}/webhooks",
        data=json.dumps({"name": "Ops", "url": "https://hooks.example.com/thirdway"}),
        content_type="application/json",
    )
    assert ticket.status_code == 201, ticket.content
    assert webhook.status_code == 201, webhook.content
    ids = {name: pk(cast, alias) for name, alias in OBJECTS.items()}
    return {**ids, "ticket_id": ticket.json()["id"], "webhook_id": webhook.json()["id"]}


def _path(template: str, ids: dict[str, int]) -> str:
    parts = template.split("{")
    return parts[0] + "".join(
        str(ids.get(part.split("}", 1)[0], 1)) + part.split("}", 1)[1] for part in parts[1:]
    )


def _hammer(client: HttpClient, method: str, url: str, path: str, bodies) -> int:
    """Send ``bodies`` (a strategy) to one write; the number of requests sent."""
    sent = 0
    send = getattr(client, method)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies)
    def hostile(body: Any) -> None:
        nonlocal sent
        sent += 1
        response = send(path, data=json.dumps(body), content_type="application/json")
        _assert_documented(response, method, url)

    hostile()
    return sent


@pytest.mark.parametrize("role", ["admin", "client_user"])
def test_hostile_json_on_every_write_is_never_a_server_error(cast, api_as, admin, urls, role):
    client = admin if role == "admin" else api_as(getattr(cast, role))
    document = openapi()
    components = document["components"]["schemas"]
    writes = [
        (url, method, operation)
        for url, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in WRITES
    ]
    assert len(writes) >= 38
    sent = 0

    for url, method, operation in writes:
        bodies = JSON_VALUES | _wrongly_typed(operation, components)
        sent += _hammer(client, method, url, _path(url, urls), bodies)

    assert sent >= len(writes) * EXAMPLES
