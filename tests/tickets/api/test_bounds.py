"""No one request can hold the database: every list a client sends is bounded, a ticket carries
a bounded number of short tags, only the network adds new tags, and pages are bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import MAX_TAGS, TAG_LENGTH, Tag, Ticket

from .conftest import API, get, patch, post
from .test_bad_input import fields_of


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _unbounded(schema: dict, components: dict, where: str, seen: set[str]) -> Iterator[str]:
    """Where a list or a mapping inside ``schema`` has no upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unbounded(components[name], components, name, seen | {name})
        return
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _unbounded(option, components, where, seen)
    if schema.get("type") == "array":
        if "maxItems" not in schema:
            yield where
        items = schema.get("items", {})
        for item in items if isinstance(items, list) else [items]:
            yield from _unbounded(item, components, f"{where}[]", seen)
        for item in schema.get("prefixItems", []):
            yield from _unbounded(item, components, f"{where}[]", seen)
    if schema.get("type") == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield where
            yield from _unbounded(extra, components, f"{where}{{}}", seen)
        for name, field in schema.get("properties", {}).items():
            yield from _unbounded(field, components, f"{where}.{name}", seen)


def test_every_list_a_client_sends_has_an_upper_bound(db):
    document = openapi()
    components = document["components"]["schemas"]
    unbounded = []
    for url, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                for where in _unbounded(parameter["schema"], components, parameter["name"], set()):
                    unbounded.append(f"{method} {url} {where}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if "application/json" in operation["requestBody"]["content"]:
                    for where in _unbounded(content["schema"], components, "body", set()):
                        unbounded.append(f"{method} {url} {where}")

    assert unbounded == []


def test_every_page_is_bounded(cast, api_as, desk):
    client = api_as(cast.admin)
    document = openapi()
    pages = 0
    for url, methods in document["paths"].items():
        operation = methods.get("get", {})
        query = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        if "limit" not in query or "offset" not in query:
            continue
        pages += 1
        assert query["limit"]["maximum"] <= 500, url
        assert "maximum" in query["offset"], url
        path = url.replace("{ticket_id}", str(desk.acme_bob.pk)).replace("{webhook_id}", "1")
        assert "limit" in fields_of(client.get(path, {"limit": 501})), url
        assert "offset" in fields_of(client.get(path, {"offset": 10**12})), url
    assert pages >= 10
    response = get(client, "/tickets", limit=500)
    assert response.status_code == 200


def new_ticket(cast, **fields) -> dict:
    return {"client": cast.acme.pk, "subject": "Printer", "body_text": "Jammed", **fields}


def test_a_client_contact_picks_existing_tags_but_cannot_add_new_ones(cast, api_as):
    Tag.objects.create(name="printer")
    client = api_as(cast.client_user)

    refused = post(client, "/tickets", new_ticket(cast, tags=["printer", "Urgent-Now"]))
    accepted = post(client, "/tickets", new_ticket(cast, tags=["Printer"]))

    assert fields_of(refused) == ["tags"]
    assert "urgent-now" in refused.json()["errors"][0]["problem"]
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["tags"] == ["printer"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["printer"]


@pytest.mark.parametrize("tag", ["50%(off", "100%", "%(allowed)s", "%s%d"])
def test_an_unknown_tag_quoted_back_in_the_refusal_keeps_its_percent_signs(cast, api_as, tag):
    refused = post(api_as(cast.client_user), "/tickets", new_ticket(cast, tags=[tag]))

    assert fields_of(refused) == ["tags"]
    assert refused.json()["errors"][0]["problem"].startswith(f"Unknown tags: {tag.lower()}.")


def test_the_network_adds_new_tags(cast, api_as):
    response = post(api_as(cast.partner), "/tickets", new_ticket(cast, tags=["Firmware"]))

    assert response.status_code == 201, response.content
    assert Tag.objects.filter(name="firmware").exists()


@pytest.mark.parametrize("role", ["partner", "client_user"])
def test_a_flood_of_tags_is_refused_before_any_is_written(cast, api_as, role):
    before = Ticket.objects.count()
    tags = [f"t{number}" for number in range(200_000)]

    response = post(api_as(getattr(cast, role)), "/tickets", new_ticket(cast, tags=tags))

    assert fields_of(response) == ["tags"]
    assert Ticket.objects.count() == before
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    "tags",
    [[f"t{number}" for number in range(MAX_TAGS + 1)], ["x" * (TAG_LENGTH + 1)]],
    ids=["too many", "too long"],
)
def test_tags_are_bounded_in_number_and_length(cast, api_as, desk, tags):
    client = api_as(cast.partner)

    created = post(client, "/tickets", new_ticket(cast, tags=tags))
    changed = patch(client, f"/tickets/{desk.acme_bob.pk}", {"tags": tags})

    assert {field.split(".")[0] for field in fields_of(created)} == {"tags"}
    assert {field.split(".")[0] for field in fields_of(changed)} == {"tags"}
    assert not Tag.objects.exists()


def test_the_services_hold_web_and_api_alike_to_the_tag_rules(cast):
    Tag.objects.create(name="printer")
    many = [f"t{number}" for number in range(MAX_TAGS + 1)]
    for actor, tags in [
        (cast.client_user, ["printer", "brand-new"]),
        (cast.partner, many),
        (cast.partner, ["a" * (TAG_LENGTH + 1)]),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.create_ticket(
                actor, cast.acme, subject="Printer", tags=tags, source=Source.WEB
            )
        assert list(refused.value.message_dict) == ["tags"]
    assert list(Tag.objects.values_list("name", flat=True)) == ["printer"]


def test_adding_tags_in_bulk_cannot_pass_the_limit(cast, api_as, desk):
    client = api_as(cast.admin)
    full = [f"t{number}" for number in range(MAX_TAGS)]
    assert patch(client, f"/tickets/{desk.acme_bob.pk}", {"tags": full}).status_code == 200

    response = post(client, "/tickets/bulk", {"tickets": [desk.acme_bob.pk], "add_tags": ["x"]})

    assert response.status_code == 200, response.content
    assert response.json()["updated"] == []
    assert desk.acme_bob.tags.count() == MAX_TAGS


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/tickets/{ticket}/split", {"articles": list(range(1, 202))}, "articles"),
        ("/tickets/bulk", {"tickets": list(range(1, 202)), "unassign": True}, "tickets"),
        ("/tickets/bulk", {"tickets": [1], "add_tags": ["t"] * 21}, "add_tags"),
    ],
    ids=["split", "bulk tickets", "bulk tags"],
)
def test_long_lists_of_ids_are_refused(cast, api_as, desk, url, payload, field):
    client = api_as(cast.admin)

    response = post(client, url.format(ticket=desk.acme_bob.pk), payload)

    assert field in fields_of(response)
