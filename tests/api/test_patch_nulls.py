"""A PATCH and its OpenAPI document agree on null: a field the document lets be null accepts
null (and clears it), any other field sent as null is a 400 naming it, with nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from support.api import API, assert_refused, nothing_written, pk

# The object each PATCH of the API changes, by the short names of the cast (``support.api``);
# ``ticket``, ``webhook``, ``contract``, ``check``, ``window``, ``schedule``, ``lead``,
# ``opportunity``, ``script``, ``tool`` and ``item`` are made by the test; None: a path that
# names no object.  A new PATCH must be added here.
TARGETS: dict[str, str | None] = {
    "/practices/{practice_id}": "security",
    "/partners/{partner_id}": "paula",
    "/absences/{absence_id}": "oscar_vacation",
    "/clients/{client_id}": "acme",
    "/sites/{site_id}": "acme_site",
    "/contacts/{contact_id}": "bob",
    "/assets/{asset_id}": "bob_laptop",
    "/tickets/{ticket_id}": "ticket",
    "/webhooks/{webhook_id}": "webhook",
    "/contracts/{contract_id}": "contract",
    "/monitoring/checks/{check_id}": "check",
    "/monitoring/windows/{window_id}": "window",
    "/monitoring/scripts/{script_id}": "script",
    "/maintenance-schedules/{schedule_id}": "schedule",
    "/sales/leads/{lead_id}": "lead",
    "/sales/opportunities/{opportunity_id}": "opportunity",
    "/billing/export-mappings/{practice_id}": "security",
    "/billing/client-details/{client_id}": "acme",
    "/billing/sharing/{practice_id}": "security",
    "/billing/tool-costs/{tool_id}": "tool",
    "/billing/items/{item_id}": "item",
    "/billing/settings/{practice_id}": "security",
    "/dispatch-switches/{practice_id}": "security",
    # the practice's own settings: one of each, no id in the path
    "/insights/nps-settings": None,
    "/insights/thresholds": None,
}


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _nullable(schema: dict) -> bool:
    return schema.get("type") == "null" or any(
        option.get("type") == "null" for option in schema.get("anyOf", [])
    )


def _patches(document: dict) -> dict[str, dict[str, bool]]:
    """Each PATCH path (under the API) with its fields and whether each may be null."""
    components = document["components"]["schemas"]
    found = {}
    for url, methods in document["paths"].items():
        if "patch" not in methods:
            continue
        body = methods["patch"]["requestBody"]["content"]["application/json"]["schema"]
        body = components[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
        fields = {name: _nullable(field) for name, field in body["properties"].items()}
        found[url.removeprefix(API)] = fields
    return found


def _send(client, url: str, payload: dict):
    return client.patch(url, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def admin(cast, api_as) -> HttpClient:
    return api_as(cast.admin)


@pytest.fixture
def ids(cast, admin) -> dict[str, int]:
    """The id of each object a PATCH of the test changes."""
    ticket = admin.post(
        f"{API}/tickets",
        data=json.dumps({"client": cast.acme.pk, "subject": "Printer", "body_text": "Jammed"}),
        content_type="application/json",
    )
    webhook = admin.post(
        f"{API}/webhooks",
        data=json.dumps(
            {"name": "Ops", "url": "https://hooks.example.com/thirdway", "client": cast.acme.pk}
        ),
        content_type="application/json",
    )
    check = admin.post(
        f"{API}/monitoring/checks",
        data=json.dumps(
            {"client": cast.acme.pk, "name": "Shop", "kind": "http", "target": "https://a.example/"}
        ),
        content_type="application/json",
    )
    window = admin.post(
        f"{API}/monitoring/windows",
        data=json.dumps(
            {
                "client": cast.acme.pk,
                "name": "Patching",
                "kind": "weekly",
                "weekdays": [6],
                "start_time": "01:00",
                "duration_minutes": 60,
            }
        ),
        content_type="application/json",
    )
    contract = admin.post(
        f"{API}/contracts",
        data=json.dumps(
            {
                "client": cast.acme.pk,
                "practice": cast.security.pk,
                "kind": "managed",
                "name": "Managed",
                "starts_on": "2026-01-01",
                "originator": cast.partner_record.pk,
            }
        ),
        content_type="application/json",
    )
    schedule = admin.post(
        f"{API}/maintenance-schedules",
        data=json.dumps(
            {
                "client": cast.acme.pk,
                "name": "Patching",
                "rule": "FREQ=WEEKLY;BYDAY=SU",
                "starts_at": "2026-01-04T01:00:00Z",
            }
        ),
        content_type="application/json",
    )
    lead = admin.post(
        f"{API}/sales/leads",
        data=json.dumps(
            {
                "company": "Prospect",
                "contact_name": "Pat",
                "contact_email": "pat@prospect.example",
                "source": "web",
                "owner": cast.partner_record.pk,
            }
        ),
        content_type="application/json",
    )
    assert lead.status_code == 201, lead.content
    opportunity = admin.post(
        f"{API}/sales/opportunities",
        data=json.dumps(
            {"lead": lead.json()["id"], "practice": cast.security.pk, "title": "Managed IT"}
        ),
        content_type="application/json",
    )
    assert opportunity.status_code == 201, opportunity.content
    script = admin.post(
        f"{API}/monitoring/scripts",
        data=json.dumps(
            {"practice": cast.security.pk, "name": "Up", "interpreter": "sh", "body": "exit 0"}
        ),
        content_type="application/json",
    )
    assert script.status_code == 201, script.content
    tool = admin.post(
        f"{API}/billing/tool-costs",
        data=json.dumps(
            {"practice": cast.security.pk, "name": "RMM", "unit": "client", "rate": "1.00"}
        ),
        content_type="application/json",
    )
    assert tool.status_code == 201, tool.content
    item = admin.post(
        f"{API}/billing/items",
        data=json.dumps(
            {
                "practice": cast.security.pk,
                "client": cast.acme.pk,
                "description": "Cable",
                "unit_price": "10.00",
                "incurred_on": "2026-11-03",
            }
        ),
        content_type="application/json",
    )
    assert item.status_code == 201, item.content
    assert schedule.status_code == 201, schedule.content
    assert ticket.status_code == 201, ticket.content
    assert webhook.status_code == 201, webhook.content
    assert check.status_code == 201, check.content
    assert window.status_code == 201, window.content
    assert contract.status_code == 201, contract.content
    made = {
        "ticket": ticket.json()["id"],
        "webhook": webhook.json()["id"],
        "contract": contract.json()["id"],
        "check": check.json()["id"],
        "window": window.json()["id"],
        "schedule": schedule.json()["id"],
        "lead": lead.json()["id"],
        "opportunity": opportunity.json()["id"],
        "script": script.json()["id"],
        "tool": tool.json()["id"],
        "item": item.json()["id"],
    }
    return {
        template: made[name] if name in made else pk(cast, name)
        for template, name in TARGETS.items()
        if name is not None
    }


def _url(template: str, ids: dict[str, int]) -> str:
    if "{" not in template:
        return API + template
    return API + template.split("{")[0] + str(ids[template])


def test_every_patch_of_the_api_is_tried(db):
    assert set(_patches(openapi())) == set(TARGETS)


def test_every_field_a_patch_documents_as_nullable_accepts_null(admin, ids):
    tried = []
    for template, fields in _patches(openapi()).items():
        url = _url(template, ids)
        for name in [name for name, nullable in fields.items() if nullable]:
            response = _send(admin, url, {name: None})
            assert response.status_code == 200, (template, name, response.content)
            assert response.json().get(name, response.json().get(f"{name}_id")) is None, name
            tried.append(name)

    assert {"lead", "lead_partner", "site", "contact", "latitude", "practice"} <= set(tried)


def test_every_field_a_patch_documents_as_not_nullable_refuses_null(admin, ids):
    tried = []
    for template, fields in _patches(openapi()).items():
        url = _url(template, ids)
        for name in [name for name, nullable in fields.items() if not nullable]:
            with nothing_written():
                response = _send(admin, url, {name: None})
            errors = assert_refused(response, name)
            assert "not null" in errors[0]["allowed"], (template, name)
            tried.append(name)

    assert {"name", "subject", "tags", "email", "kind", "is_active", "url"} <= set(tried)
