"""The succession API and pages: preview writes nothing, bad plans are 400s naming the field,
apply is idempotent, and each role sees exactly the plans it may (404 for the rest)."""

from __future__ import annotations

import pytest

from support.days import Days, resolved, today
from thirdway.audit.models import Source
from thirdway.billing import succession_apply
from thirdway.billing.succession import plan_from
from thirdway.billing.succession_models import Succession, SuccessionMove
from thirdway.network import services as network

API = "/api/v1/billing/successions"


@pytest.fixture
def payload(cast, books):
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)
    return {
        "leaver": cast.partner_record.pk,
        "successor": cast.other_partner_record.pk,
        "effective_on": today().isoformat(),
        "clients": [{"client": cast.acme.pk, "successor": cast.other_partner_record.pk}],
    }


def test_the_preview_answers_what_moves_and_writes_nothing(cast, api_as, payload):
    response = api_as(cast.admin).post(f"{API}/preview", payload, content_type="application/json")
    assert response.status_code == 200, response.content
    kinds = sorted(m["kind"] for m in response.json()["moves"])
    assert kinds == ["lead", "origination", "origination"]
    assert not Succession.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clients": []}, "clients"),
        ({"effective_on": Days(-3)}, "effective_on"),
        ({"successor": None}, "successor"),
        ({"origination": "leaver_until"}, "origination_until"),
        ({"origination": "sometimes"}, "origination"),
        ({"leaver": 99999}, "leaver"),
    ],
)
def test_a_plan_leaving_anything_without_an_owner_is_a_400_naming_the_field(
    cast, api_as, payload, change, field
):
    response = api_as(cast.admin).post(
        API, payload | resolved(change, iso=True), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert field in response.content.decode()
    assert not Succession.objects.exists()


def test_the_plan_is_applied_once_and_its_record_read_back(cast, api_as, payload):
    api = api_as(cast.admin)
    made = api.post(API, payload, content_type="application/json")
    assert made.status_code == 201, made.content
    plan = made.json()["id"]
    preview = api.get(f"{API}/{plan}/preview").json()["moves"]
    applied = api.post(f"{API}/{plan}/apply")
    assert applied.status_code == 200
    assert applied.json()["state"] == "applied"
    moved = applied.json()["moves"]
    assert sorted(m["kind"] for m in moved) == sorted(m["kind"] for m in preview)
    again = api.post(f"{API}/{plan}/apply")
    assert again.json()["moves"] == moved
    assert SuccessionMove.objects.count() == len(moved)
    assert api.post(f"{API}/{plan}/cancel").status_code == 400


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("admin", True),
        ("partner", True),  # the leaver
        ("other_partner", True),  # the successor
        ("associate", False),
        ("desk", False),
        ("client_admin", False),
        ("client_user", False),
        ("outsider", False),
    ],
)
def test_each_role_sees_only_the_plans_it_is_part_of(cast, api_as, payload, role, sees):
    plan = succession_apply.save_plan(
        cast.admin,
        plan_from(
            payload
            | {"effective_on": today(), "clients": [(cast.acme.pk, cast.other_partner_record.pk)]}
        ),
        source=Source.CLI,
    )
    api = api_as(getattr(cast, role))
    listed = api.get(API)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == ([plan.pk] if sees else [])
    assert api.get(f"{API}/{plan.pk}").status_code == (200 if sees else 404)
    writes = [api.post(f"{API}/{plan.pk}/apply"), api.get(f"{API}/{plan.pk}/preview")]
    expected = 200 if role == "admin" else (403 if sees else 404)
    assert {w.status_code for w in writes} == {expected}
    if role != "admin":
        preview = api.post(f"{API}/preview", {}, content_type="application/json")
        assert preview.status_code in (400, 403)
        assert Succession.objects.get(pk=plan.pk).state == "planned"


@pytest.mark.parametrize("role", ["partner", "associate", "client_admin", "outsider"])
def test_the_pages_are_the_practice_admins(cast, web_as, payload, role):
    url = "/billing/successions/"
    assert web_as(cast.admin).get(url).status_code == 200
    status = web_as(getattr(cast, role)).get(url).status_code
    assert status == (403 if getattr(cast, role).is_network_staff else 404)


def test_the_joining_page_previews_and_keeps_a_partner_bringing_clients(cast, web_as, books):
    network.set_skill(cast.admin, cast.other_partner_record, cast.security, 3, source=Source.CLI)
    from thirdway.clients import services as clients

    clients.update_client(cast.admin, cast.acme, {"lead_partner": None}, source=Source.CLI)
    web = web_as(cast.admin)
    form = {
        "joining_partner": cast.other_partner_record.pk,
        "effective_on": today().isoformat(),
        "clients": [cast.acme.pk],
    }
    preview = web.post("/billing/successions/join/", form | {"act": "preview"})
    assert preview.status_code == 200
    assert "Acme managed (Acme Bakery)" in preview.content.decode()
    refused = web.post("/billing/successions/join/", form | {"effective_on": "2020-01-01"})
    assert "The effective date is in the past." in refused.content.decode()
    assert not Succession.objects.exists()
    kept = web.post("/billing/successions/join/", form | {"act": "save"})
    assert kept.status_code == 302
    assert Succession.objects.get().joining_partner == cast.other_partner_record


def test_a_joining_through_the_api_names_its_clients_only(cast, api_as, payload):
    from thirdway.clients import services as clients

    clients.update_client(cast.admin, cast.acme, {"lead_partner": None}, source=Source.CLI)
    body = {
        "joining_partner": cast.other_partner_record.pk,
        "effective_on": today().isoformat(),
        "clients": [{"client": cast.acme.pk}],
    }
    api = api_as(cast.admin)
    made = api.post(API, body, content_type="application/json")
    assert made.status_code == 201, made.content
    applied = api.post(f"{API}/{made.json()['id']}/apply").json()
    assert {m["kind"] for m in applied["moves"]} == {"lead", "origination"}
    assert {m["to_partner_id"] for m in applied["moves"]} == {cast.other_partner_record.pk}
