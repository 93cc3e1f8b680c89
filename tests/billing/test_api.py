"""The billing API: each role gets exactly its own, 404 outside its scope, 400 naming the field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing
from thirdway.billing.models import Contract, ContractLine, Invoice, TimeEntry

from .weeks import approve_weeks

API = "/api/v1"
MONTH = dt.date(2026, 11, 1)
ROLES = sorted(
    {
        "admin",
        "partner",
        "other_partner",
        "associate",
        "desk",
        "client_admin",
        "client_user",
        "other_client_admin",
        "outsider",
    }
)


@pytest.fixture
def billed(cast, books, book_time):
    book_time(cast.partner, books.partner_rate, 90)
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    acme = issuing.approve_invoice(
        cast.admin, Invoice.objects.get(client=cast.acme), source=Source.CLI
    )
    return acme, Invoice.objects.get(client=cast.globex)


def send(client, method, url, payload=None):
    return getattr(client, method.lower())(
        f"{API}{url}",
        data=json.dumps(payload) if payload is not None else None,
        content_type="application/json",
    )


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


# What each role lists: the admin everything, partners their clients', an associate the
# contracts of clients they serve and their own time, a client admin their approved invoices.
CONTRACTS = {
    "admin": {"managed", "hours", "globex_managed"},
    "partner": {"managed", "hours"},
    "associate": {"managed", "hours"},
    "other_partner": {"globex_managed"},
}
INVOICES = {
    "admin": {"acme", "globex"},
    "partner": {"acme"},
    "other_partner": {"globex"},
    "client_admin": {"acme"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_its_own(cast, books, billed, api_as, role):
    client = api_as(getattr(cast, role))
    acme, globex = billed
    invoices = {"acme": acme.pk, "globex": globex.pk}
    contracts = {name: getattr(books, name).pk for name in ("managed", "hours", "globex_managed")}
    seen = {contracts[name] for name in CONTRACTS.get(role, set())}
    assert ids(client.get(f"{API}/contracts")) == seen
    for name, pk in contracts.items():
        expected = 200 if pk in seen else 404
        assert client.get(f"{API}/contracts/{pk}").status_code == expected, name
    seen = {invoices[name] for name in INVOICES.get(role, set())}
    assert ids(client.get(f"{API}/invoices")) == seen
    for name, pk in invoices.items():
        expected = 200 if pk in seen else 404
        assert client.get(f"{API}/invoices/{pk}").status_code == expected, name
    time = ids(client.get(f"{API}/time-entries"))
    assert (time == set(TimeEntry.objects.values_list("pk", flat=True))) == (
        role in {"admin", "partner"}
    )


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"admin"}))
def test_only_the_practice_admin_writes_contracts_and_marks_invoices_paid(
    cast, books, billed, api_as, role
):
    client = api_as(getattr(cast, role))
    acme, globex = billed
    contracts, lines = Contract.objects.count(), ContractLine.objects.count()
    answers = [
        send(
            client,
            "POST",
            "/contracts",
            {
                "client": cast.acme.pk,
                "practice": cast.security.pk,
                "kind": "block_hours",
                "name": "X",
                "starts_on": "2026-01-01",
                "block_minutes": 60,
            },
        ),
        send(client, "PATCH", f"/contracts/{books.managed.pk}", {"name": "Renamed"}),
        send(
            client,
            "POST",
            f"/contracts/{books.managed.pk}/lines",
            {
                "description": "X",
                "unit": "flat",
                "price": "1.00",
            },
        ),
        send(client, "POST", f"/invoices/{acme.pk}/paid"),
        send(client, "POST", f"/invoices/{globex.pk}/approve"),
    ]
    assert {answer.status_code for answer in answers} <= {400, 403, 404}
    assert (Contract.objects.count(), ContractLine.objects.count()) == (contracts, lines)
    assert Contract.objects.filter(name="Renamed").count() == 0
    assert set(Invoice.objects.values_list("state", flat=True)) == {"approved", "draft"}


def test_the_admin_marks_an_invoice_paid_and_the_partner_reads_it_in_their_statement(
    cast, billed, api_as
):
    acme, _ = billed
    admin = api_as(cast.admin)
    paid = send(admin, "POST", f"/invoices/{acme.pk}/paid")
    assert paid.status_code == 200
    assert paid.json()["state"] == "paid"
    assert paid.json()["vat"] == [
        {"category": "S", "rate": "20.00", "base": "305.00", "tax": "61.00"},
        {"category": "Z", "rate": "0.00", "base": "19.98", "tax": "0.00"},
    ]
    month = f"{dt.date.today():%Y-%m}"
    paula = api_as(cast.partner)
    own = paula.get(f"{API}/statements/{cast.partner_record.pk}?month={month}")
    assert own.status_code == 200
    body = own.json()
    assert {share["state"] for share in body["shares"]} == {"owed", "payable"}
    assert Decimal(body["owed"]["EUR"]) == 0  # all moved to payable
    assert Decimal(body["payable"]["EUR"]) > 0
    other = paula.get(f"{API}/statements/{cast.other_partner_record.pk}?month={month}")
    assert other.status_code == 404
    seen = admin.get(f"{API}/statements/{cast.partner_record.pk}?month={month}")
    assert seen.json() == body
    for role in ("client_admin", "outsider", "desk"):
        answer = api_as(getattr(cast, role)).get(
            f"{API}/statements/{cast.partner_record.pk}?month={month}"
        )
        assert answer.status_code == 404, role
    # A month no calendar has is refused, naming it.
    for bad in ("0000-01", "9999-12", "2026-13"):
        refused = admin.get(f"{API}/statements/{cast.partner_record.pk}?month={bad}")
        assert refused.status_code == 400 and "month" in refused.content.decode(), bad


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"price": "-1.00"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"unit": "hour"}, "unit"),
        ({"vat_rate": "101"}, "vat_rate"),
        ({"unit": "galaxy"}, "unit"),
    ],
)
def test_a_bad_contract_line_is_a_400_naming_the_field(cast, books, api_as, payload, field):
    lines = ContractLine.objects.count()
    answer = send(
        api_as(cast.admin),
        "POST",
        f"/contracts/{books.managed.pk}/lines",
        {"description": "X", "unit": "flat", "price": "1.00", **payload},
    )
    assert answer.status_code == 400
    assert field in {error["field"] for error in answer.json()["errors"]}
    assert ContractLine.objects.count() == lines


def test_an_overlapping_contract_is_a_400_and_nothing_is_written(cast, books, api_as):
    answer = send(
        api_as(cast.admin),
        "POST",
        "/contracts",
        {
            "client": cast.acme.pk,
            "practice": cast.security.pk,
            "kind": "managed",
            "name": "Again",
            "starts_on": "2026-03-01",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "starts_on"
    assert not Contract.objects.filter(name="Again").exists()


def test_a_partner_books_time_only_on_lines_they_can_see(cast, books, api_as):
    paula = api_as(cast.partner)
    booked = send(
        paula,
        "POST",
        "/time-entries",
        {
            "contract_line": books.partner_rate.pk,
            "worked_on": "2026-11-04",
            "worked_minutes": 30,
        },
    )
    assert booked.status_code == 201
    assert booked.json()["billable_minutes"] == 30
    hidden = send(
        api_as(cast.other_partner),
        "POST",
        "/time-entries",
        {
            "contract_line": books.partner_rate.pk,
            "worked_on": "2026-11-04",
            "worked_minutes": 30,
        },
    )
    assert hidden.status_code == 400
    assert hidden.json()["errors"][0]["field"] == "contract_line"
    too_long = send(
        paula,
        "POST",
        "/time-entries",
        {
            "contract_line": books.partner_rate.pk,
            "worked_on": "2026-11-04",
            "worked_minutes": 2000,
        },
    )
    assert too_long.status_code == 400
    assert TimeEntry.objects.count() == 1
    assert (
        send(
            api_as(cast.client_admin),
            "POST",
            "/time-entries",
            {
                "contract_line": books.partner_rate.pk,
                "worked_on": "2026-11-04",
                "worked_minutes": 30,
            },
        ).status_code
        == 403
    )
