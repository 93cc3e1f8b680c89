"""Values no column can hold (integers beyond 64 bits, lone UTF-16 surrogates, times outside
years 1 to 9999 in UTC) are 400s naming the field, on every operation that takes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from support.api import API
from thirdway.tickets.models import Ticket

HUGE = 2**70
SURROGATE = "\ud800"
WRITES = ("post", "put", "patch")


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _kind(schema: dict, components: dict) -> str | None:
    """``integer``, ``string``, ``integers`` or ``strings`` for a field of those types."""
    if "$ref" in schema:
        return _kind(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for option in schema.get("anyOf", []):
        kind = _kind(option, components)
        if kind is not None:
            return kind
    if schema.get("type") in ("integer", "string"):
        return schema["type"]
    if schema.get("type") == "array":
        item = _kind(schema.get("items", {}), components)
        return f"{item}s" if item in ("integer", "string") else None
    return None


def _body_fields(operation: dict, components: dict) -> Iterator[tuple[str, str]]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return
    body = content["application/json"]["schema"]
    body = components[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
    for name, field in body.get("properties", {}).items():
        kind = _kind(field, components)
        if kind is not None:
            yield name, kind


def _operations() -> Iterator[tuple[str, str, dict, dict]]:
    document = openapi()
    components = document["components"]["schemas"]
    for url, methods in document["paths"].items():
        for method, operation in methods.items():
            yield url, method, operation, components


def _url(template: str, value: int = 1) -> str:
    """Path ids are 1 unless told: fields are checked before anything is looked up."""
    parts = template.split("{")
    return parts[0] + "".join(f"{value}" + part.split("}", 1)[1] for part in parts[1:])


def _fields(response) -> list[str]:
    assert response.status_code == 400, response.content
    return [error["field"] for error in response.json()["errors"]]


def _send(client: HttpClient, method: str, url: str, payload: dict):
    return getattr(client, method)(url, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def admin_api(cast, api_as) -> HttpClient:
    return api_as(cast.admin)


def test_an_integer_beyond_64_bits_is_a_400_naming_its_field_everywhere(caller):
    tried = []
    for url, method, operation, components in _operations():
        client = caller(operation)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and _kind(parameter["schema"], components) in (
                "integer",
                "integers",
            ):
                query = urlencode({parameter["name"]: HUGE})
                response = getattr(client, method)(f"{_url(url)}?{query}")
                named = [field.split(".")[0] for field in _fields(response)]
                assert parameter["name"] in named, (method, url)
                tried.append((method, url, parameter["name"]))
        for name, kind in _body_fields(operation, components):
            if kind in ("integer", "integers"):
                value = HUGE if kind == "integer" else [HUGE]
                response = _send(client, method, _url(url), {name: value})
                assert name in [field.split(".")[0] for field in _fields(response)], (method, url)
                tried.append((method, url, name))
    fields = {name for _, _, name in tried}
    assert {"limit", "offset", "client", "practice", "requester", "partner"} <= fields
    assert {"tickets", "articles", "into", "target", "assignee"} <= fields


def test_an_id_beyond_64_bits_in_a_path_is_not_a_server_error(admin_api):
    for url, method, _, _ in _operations():
        if "{" in url:
            if method in WRITES:
                response = _send(admin_api, method, _url(url, HUGE), {})
            else:
                response = getattr(admin_api, method)(_url(url, HUGE))
            assert response.status_code < 500, (method, url)


def test_a_lone_surrogate_is_a_400_naming_its_field_in_every_write(caller):
    tried = []
    for url, method, operation, components in _operations():
        if method not in WRITES:
            continue
        client = caller(operation)
        for name, kind in _body_fields(operation, components):
            if kind in ("string", "strings"):
                value = SURROGATE if kind == "string" else [SURROGATE]
                response = _send(client, method, _url(url), {name: value})
                assert name in [field.split(".")[0] for field in _fields(response)], (method, url)
                tried.append((method, url, name))
    assert {"subject", "body_html", "body_text", "name", "tags", "reason"} <= {
        name for _, _, name in tried
    }


def test_a_surrogate_in_a_valid_ticket_writes_nothing(cast, api_as):
    client = api_as(cast.partner)
    payload = {"client": cast.acme.pk, "subject": f"Printer {SURROGATE}", "body_text": "Jammed"}
    before = Ticket.objects.count()

    response = _send(client, "post", f"{API}/tickets", payload)

    assert _fields(response) == ["subject"]
    assert Ticket.objects.count() == before
    assert "surrogate" in response.json()["errors"][0]["allowed"]


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"], ids=["after", "before"]
)
def test_a_visit_time_outside_years_1_to_9999_in_utc_is_a_400(cast, api_as, moment):
    client = api_as(cast.partner)
    payload = {
        "client": cast.acme.pk,
        "subject": "Visit",
        "needs_onsite": True,
        "visit_starts_at": moment,
    }

    response = _send(client, "post", f"{API}/tickets", payload)

    assert _fields(response) == ["visit_starts_at"]
    assert "9999" in response.json()["errors"][0]["allowed"]


def test_an_absence_outside_years_1_to_9999_in_utc_is_a_400(cast, api_as):
    payload = {
        "partner": cast.partner_record.pk,
        "kind": "vacation",
        "starts_at": "2026-07-01T00:00:00Z",
        "ends_at": "9999-12-31T23:30:00-01:00",
    }

    response = _send(api_as(cast.admin), "post", f"{API}/absences", payload)

    assert _fields(response) == ["ends_at"]
