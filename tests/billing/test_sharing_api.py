"""The API of shared tool costs, the clawback period and clawbacks: practice admins only, bad
input is a 400 naming the field, and nothing is written."""

from __future__ import annotations

import pytest

from support.api import assert_refused, nothing_written
from thirdway.billing.models import ReferralClawback, ToolCost

from .test_api import ROLES, send
from .test_sharing import approved_acme, leave, referred  # noqa: F401  (the fixture)


def tool(cast, client, **extra):
    payload = {"practice": cast.security.pk, "name": "RMM", "unit": "monitored_device"}
    return send(client, "POST", "/billing/tool-costs", {**payload, "rate": "2.50", **extra})


def test_an_admin_adds_changes_lists_and_removes_a_tool(cast, api_as):
    admin = api_as(cast.admin)
    made = tool(cast, admin)
    assert made.status_code == 201, made.content
    assert made.json()["rate"] == "2.50"
    pk = made.json()["id"]
    changed = send(admin, "PATCH", f"/billing/tool-costs/{pk}", {"rate": "3", "unit": "user"})
    assert (changed.status_code, changed.json()["rate"], changed.json()["unit"]) == (
        200,
        "3.00",
        "user",
    )
    sharing = send(admin, "GET", f"/billing/sharing/{cast.security.pk}").json()
    assert sharing["clawback_months"] == 0
    assert [t["name"] for t in sharing["tool_costs"]] == ["RMM"]
    listed = send(admin, "GET", f"/billing/tool-costs?practice={cast.security.pk}")
    assert [t["id"] for t in listed.json()] == [pk]
    assert send(admin, "DELETE", f"/billing/tool-costs/{pk}").status_code == 204
    assert not ToolCost.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"rate": "-1"}, "rate"),
        ({"rate": "100000.01"}, "rate"),
        ({"rate": "1.001"}, "rate"),
        ({"unit": "seat"}, "unit"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"practice": 987654}, "practice"),
    ],
)
def test_a_tool_out_of_bounds_is_a_400_naming_the_field(cast, api_as, extra, field):
    admin = api_as(cast.admin)
    with nothing_written():
        assert_refused(tool(cast, admin, **extra), field)


def test_a_second_tool_of_the_same_name_is_refused(cast, api_as):
    admin = api_as(cast.admin)
    tool(cast, admin)
    with nothing_written():
        assert_refused(tool(cast, admin, name="rmm"), "name")


@pytest.mark.parametrize("months", [-1, 37, None, "six"])
def test_a_clawback_period_out_of_bounds_is_a_400(cast, api_as, months):
    admin = api_as(cast.admin)
    with nothing_written():
        answer = send(
            admin,
            "PATCH",
            f"/billing/sharing/{cast.security.pk}",
            {"clawback_months": months},
        )
        assert_refused(answer, "clawback_months")


def test_the_clawback_period_is_changed(cast, api_as):
    answer = send(
        api_as(cast.admin), "PATCH", f"/billing/sharing/{cast.security.pk}", {"clawback_months": 12}
    )
    assert answer.status_code == 200 and answer.json()["clawback_months"] == 12


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_nobody_but_the_admin_sees_or_changes_tools(cast, api_as, role):
    pk = tool(cast, api_as(cast.admin)).json()["id"]
    client = api_as(getattr(cast, role))
    with nothing_written():
        assert send(client, "GET", "/billing/tool-costs").json() in ([], {"detail": "Unauthorized"})
        assert send(client, "GET", f"/billing/tool-costs/{pk}").status_code in (401, 404)
        assert send(client, "PATCH", f"/billing/tool-costs/{pk}", {"rate": "9"}).status_code in (
            401,
            404,
        )
        assert send(client, "DELETE", f"/billing/tool-costs/{pk}").status_code in (401, 404)
        assert tool(cast, client, name="Mine").status_code in (401, 403)
        patched = send(
            client, "PATCH", f"/billing/sharing/{cast.security.pk}", {"clawback_months": 3}
        )
        assert patched.status_code in (401, 403)
        assert send(client, "GET", "/billing/clawbacks").json() in ([], {"detail": "Unauthorized"})


def test_a_clawback_is_made_once_and_one_not_due_is_a_400(cast, api_as, referred):  # noqa: F811
    admin = api_as(cast.admin)
    approved_acme(cast)
    payload = {"practice": cast.security.pk, "client": cast.acme.pk}
    with nothing_written():
        assert_refused(send(admin, "POST", "/billing/clawbacks", payload), "client")
    leave(cast)
    made = send(admin, "POST", "/billing/clawbacks", payload)
    assert made.status_code == 201, made.content
    assert made.json()["memo"] == "Clawed back: Acme Bakery left after 0 months"
    again = send(admin, "POST", "/billing/clawbacks", payload)
    assert (again.status_code, again.json()["id"]) == (200, made.json()["id"])
    assert ReferralClawback.objects.count() == 1
    assert [c["client_id"] for c in send(admin, "GET", "/billing/clawbacks").json()] == [
        cast.acme.pk
    ]


def test_a_clawback_naming_no_practice_is_a_400_naming_it(cast, api_as):
    admin = api_as(cast.admin)
    payload = {"practice": 987654, "client": cast.acme.pk}
    with nothing_written():
        assert_refused(send(admin, "POST", "/billing/clawbacks", payload), "practice")
