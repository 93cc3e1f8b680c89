"""The capital API: a practice admin sees and changes every account, a partner reads only their
own, anyone else finds nothing; bad input is a 400 naming the field, and nothing is written."""

from __future__ import annotations

import pytest
from django.utils import timezone

from thirdway.billing.models import CapitalTerms, LedgerTransaction, PoolAllocation

from .capital_cast import join_security, paid_invoice, terms
from .test_api import API, ROLES, send


@pytest.fixture
def accounts(cast):
    join_security(cast)
    return terms(cast, cast.partner_record), terms(cast, cast.other_partner_record, units=30)


SEES = {"admin": {"paula", "oscar"}, "partner": {"paula"}, "other_partner": {"oscar"}}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_capital_account(cast, accounts, api_as, role):
    paula, oscar = accounts
    names = {paula.pk: "paula", oscar.pk: "oscar"}
    client = api_as(getattr(cast, role))
    listed = send(client, "GET", "/billing/capital")
    assert listed.status_code == 200
    assert {names[item["id"]] for item in listed.json()} == SEES.get(role, set())
    for pk, name in names.items():
        one = send(client, "GET", f"/billing/capital/{pk}")
        preview = send(client, "GET", f"/billing/capital/{pk}/buy-out")
        expected = 200 if name in SEES.get(role, set()) else 404
        assert (one.status_code, preview.status_code) == (expected, expected), name


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_the_practice_admin_changes_capital(cast, accounts, api_as, role):
    paula, _ = accounts
    client = api_as(getattr(cast, role))
    month = f"{timezone.localdate():%Y-%m}"
    answers = [
        send(
            client,
            "POST",
            "/billing/capital",
            {
                "practice": cast.security.pk,
                "partner": cast.partner_record.pk,
                "units": 99,
                "vesting_starts_on": "2026-01-01",
            },
        ),
        send(client, "POST", f"/billing/capital/{paula.pk}/buy-in", {"amount": "10.00"}),
        send(client, "POST", f"/billing/capital/{paula.pk}/buy-out"),
        send(
            client,
            "POST",
            "/billing/pool-allocations",
            {"practice": cast.security.pk, "month": month},
        ),
        send(client, "GET", f"/billing/pool-allocations/{cast.security.pk}/{month}"),
    ]
    assert {answer.status_code for answer in answers} <= {403, 404}
    assert CapitalTerms.objects.get(pk=paula.pk).units == 10
    assert not LedgerTransaction.objects.exists()
    assert not PoolAllocation.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"buy_in": "-1.00"}, "buy_in"),
        ({"buy_in": "1.001"}, "buy_in"),
        ({"units": 0}, "units"),
        ({"units": 1_000_001}, "units"),
        ({"vesting_months": 121}, "vesting_months"),
        ({"vesting_months": -1}, "vesting_months"),
        ({"withhold_percent": "101"}, "withhold_percent"),
        ({"buy_in_method": "withheld"}, "withhold_percent"),
        ({"buy_in_method": "someday"}, "buy_in_method"),
        ({"vesting_starts_on": "2026-02-30"}, "vesting_starts_on"),
        ({"partner": 10**9}, "partner"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_terms_are_a_400_naming_the_field_and_nothing_is_written(cast, api_as, change, field):
    join_security(cast)
    payload = {
        "practice": cast.security.pk,
        "partner": cast.partner_record.pk,
        "buy_in": "500.00",
        "units": 10,
        "vesting_starts_on": "2026-01-01",
        "vesting_months": 24,
    }
    answer = send(api_as(cast.admin), "POST", "/billing/capital", {**payload, **change})
    assert answer.status_code == 400, answer.content
    assert field in {error["field"] for error in answer.json()["errors"]}
    assert not CapitalTerms.objects.exists()


def test_the_admin_sets_terms_records_the_buy_in_allocates_and_buys_out(cast, books, api_as):
    join_security(cast)
    admin = api_as(cast.admin)
    payload = {
        "practice": cast.security.pk,
        "partner": cast.partner_record.pk,
        "buy_in": "1000.00",
        "units": 10,
        "vesting_starts_on": "2020-01-01",
        "vesting_months": 12,
    }
    made = send(admin, "POST", "/billing/capital", payload)
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["vested_units"] == "10.00"
    changed = send(admin, "POST", "/billing/capital", {**payload, "units": 20})
    assert (changed.status_code, changed.json()["id"], changed.json()["units"]) == (200, pk, 20)

    too_much = send(admin, "POST", f"/billing/capital/{pk}/buy-in", {"amount": "1000.01"})
    assert too_much.status_code == 400 and too_much.json()["errors"][0]["field"] == "amount"
    negative = send(admin, "POST", f"/billing/capital/{pk}/buy-in", {"amount": "-1"})
    assert negative.status_code == 400
    assert not LedgerTransaction.objects.exists()
    paid = send(admin, "POST", f"/billing/capital/{pk}/buy-in", {"amount": "250.00"})
    assert paid.status_code == 201
    assert (paid.json()["balance"], paid.json()["buy_in_left"]) == ("250.00", "750.00")
    assert paid.json()["entries"][0]["kind"] == "buy_in"

    paid_invoice(cast)
    month = f"{timezone.localdate():%Y-%m}"
    preview = send(admin, "GET", f"/billing/pool-allocations/{cast.security.pk}/{month}")
    assert preview.status_code == 200 and preview.json()["id"] is None
    pool = preview.json()["amount"]
    body = {"practice": cast.security.pk, "month": month}
    first = send(admin, "POST", "/billing/pool-allocations", body)
    assert first.status_code == 201, first.content
    assert first.json()["amount"] == pool
    assert sum(float(p["amount"]) for p in first.json()["parts"]) == pytest.approx(float(pool))
    again = send(admin, "POST", "/billing/pool-allocations", body)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert LedgerTransaction.objects.filter(kind="allocation").count() == 1
    bad = send(admin, "POST", "/billing/pool-allocations", {**body, "month": "2026-13"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "month"

    quote = send(admin, "GET", f"/billing/capital/{pk}/buy-out").json()
    out = send(admin, "POST", f"/billing/capital/{pk}/buy-out")
    assert out.status_code == 201
    assert out.json()["bought_out"] is True and out.json()["balance"] == "0.00"
    assert quote["amount"] == str(
        sum(
            -leg.amount
            for leg in LedgerTransaction.objects.get(kind="buy_out").legs.all()
            if leg.account.kind == "payable" and leg.account.holder == "partner"
        )
    )
    twice = send(admin, "POST", f"/billing/capital/{pk}/buy-out")
    assert twice.status_code == 400

    mine = send(api_as(cast.partner), "GET", f"/billing/capital/{pk}")
    assert mine.status_code == 200 and mine.json()["bought_out"] is True
    assert API == "/api/v1"
