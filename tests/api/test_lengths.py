"""Every text a client sends has a maximum length, the OpenAPI document says it, and a longer
value is a 400 naming the field and the limit, with nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from support.api import API, nothing_written
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Absence, Partner, Practice
from thirdway.payloads import MAX_BODY
from thirdway.sla.models import BusinessCalendar
from thirdway.tickets.models import Ticket
from thirdway.tickets.webhooks.models import Webhook

WRITES = ("post", "put", "patch")
# A string whose values are a closed list, a moment or a file needs no length of its own.
BOUNDED_FORMATS = {"date-time", "date", "time", "binary"}


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolved(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _unlimited(schema: dict, components: dict, where: str, seen: frozenset) -> Iterator[str]:
    """Where a free string inside ``schema`` has no maximum length."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unlimited(components[name], components, name, seen | {name})
        return
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _unlimited(option, components, where, seen)
    if (
        schema.get("type") == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "const" not in schema
        and schema.get("format") not in BOUNDED_FORMATS
    ):
        yield where
    items = [schema["items"]] if isinstance(schema.get("items"), dict) else []
    for item in [*items, *schema.get("prefixItems", [])]:
        yield from _unlimited(item, components, f"{where}[]", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _unlimited(extra, components, f"{where}{{}}", seen)
    for name, field in schema.get("properties", {}).items():
        yield from _unlimited(field, components, f"{where}.{name}", seen)


def test_every_text_a_client_sends_has_a_maximum_length(db):
    document = openapi()
    components = document["components"]["schemas"]
    unlimited = []
    for url, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                for where in _unlimited(parameter["schema"], components, "", frozenset()):
                    unlimited.append(f"{method} {url} ?{parameter['name']}{where}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for where in _unlimited(content["schema"], components, "body", frozenset()):
                    unlimited.append(f"{method} {url} {where}")

    assert unlimited == []


def _max_length(schema: dict, components: dict) -> int | None:
    schema = _resolved(schema, components)
    for option in schema.get("anyOf", []):
        found = _max_length(option, components)
        if found is not None:
            return found
    if schema.get("type") == "string" and "enum" not in schema:
        return schema.get("maxLength")
    return None


def _url(template: str) -> str:
    """Path ids are 1: fields are checked before anything is looked up."""
    parts = template.split("{")
    return parts[0] + "".join("1" + part.split("}", 1)[1] for part in parts[1:])


def _refusal_of(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    errors = [error for error in response.json()["errors"] if error["field"] == field]
    assert errors, response.content
    return errors[0]


def test_a_text_over_its_maximum_is_a_400_naming_the_field_and_the_limit_everywhere(caller):
    document = openapi()
    components = document["components"]["schemas"]
    tried = []
    with nothing_written():
        for url, methods in document["paths"].items():
            for method, operation in methods.items():
                client = caller(operation)
                for parameter in operation.get("parameters", []):
                    limit = _max_length(parameter["schema"], components)
                    if parameter["in"] != "query" or limit is None:
                        continue
                    query = urlencode({parameter["name"]: "x" * (limit + 1)})
                    response = getattr(client, method)(f"{_url(url)}?{query}")
                    error = _refusal_of(response, parameter["name"])
                    assert error["allowed"] == f"at most {limit} characters", (method, url)
                    tried.append(parameter["name"])
                content = operation.get("requestBody", {}).get("content", {})
                if method not in WRITES or "application/json" not in content:
                    continue
                body = _resolved(content["application/json"]["schema"], components)
                for name, field in body.get("properties", {}).items():
                    limit = _max_length(field, components)
                    if limit is None:
                        continue
                    response = getattr(client, method)(
                        _url(url),
                        data=json.dumps({name: "x" * (limit + 1)}),
                        content_type="application/json",
                    )
                    error = _refusal_of(response, name)
                    assert error["allowed"] == f"at most {limit} characters", (method, url)
                    assert str(limit) in error["problem"], (method, url)
                    tried.append(name)

    assert {"q", "tag", "region", "name", "subject", "body_text", "notes", "reason"} <= set(tried)


def test_a_reply_over_the_length_of_a_body_writes_nothing(cast, api_as):
    client = api_as(cast.partner)
    created = client.post(
        f"{API}/tickets",
        data=json.dumps({"client": cast.acme.pk, "subject": "Printer", "body_text": "Jammed"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    url = f"{API}/tickets/{created.json()['id']}/reply"
    articles = Ticket.objects.get(pk=created.json()["id"]).articles.count()

    longest = client.post(url, {"body_text": "y" * MAX_BODY}, content_type="application/json")
    refused = client.post(url, {"body_text": "y" * (MAX_BODY + 1)}, content_type="application/json")

    assert longest.status_code == 201, longest.content
    error = _refusal_of(refused, "body_text")
    assert error["allowed"] == f"at most {MAX_BODY} characters"
    assert Ticket.objects.get(pk=created.json()["id"]).articles.count() == articles + 1


@pytest.mark.parametrize(
    ("component", "field", "model"),
    [
        ("PracticeIn", "name", Practice),
        ("PartnerIn", "name", Partner),
        ("PartnerIn", "phone", Partner),
        ("PartnerIn", "time_zone", Partner),
        ("AbsenceIn", "note", Absence),
        ("ClientIn", "name", Client),
        ("ClientIn", "country", Client),
        ("SiteIn", "name", Site),
        ("ContactIn", "name", Contact),
        ("AssetIn", "serial", Asset),
        ("CalendarIn", "name", BusinessCalendar),
        ("TicketIn", "subject", Ticket),
        ("TicketIn", "category", Ticket),
        ("TicketIn", "priority_reason", Ticket),
        ("WebhookIn", "url", Webhook),
        ("TicketPatch", "subject", Ticket),
        ("ClientPatch", "region", Client),
    ],
)
def test_a_text_stored_in_a_column_is_as_long_as_the_column_at_most(db, component, field, model):
    components = openapi()["components"]["schemas"]

    limit = _max_length(components[component]["properties"][field], components)

    assert limit == model._meta.get_field(field).max_length
