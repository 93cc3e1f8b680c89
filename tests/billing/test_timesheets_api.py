"""The API of weeks, corrections, block hours and billed-vs-counted: each endpoint answers each
role its own (404 outside), refused moves are a 409 saying what is allowed, bad input a 400."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing
from thirdway.billing.models import BlockTopUp, Invoice, TimeEntry, Timesheet
from thirdway.network.models import Practice

from .conftest import ten_hour_block
from .weeks import approve_weeks

API = "/api/v1"
MONTH = dt.date(2026, 11, 1)
DAY = dt.date(2026, 11, 10)
ROLES = [
    "admin",
    "partner",
    "other_partner",
    "associate",
    "desk",
    "client_admin",
    "client_user",
    "outsider",
]


def send(client, method, url, payload=None):
    return getattr(client, method.lower())(
        f"{API}{url}",
        data=json.dumps(payload) if payload is not None else None,
        content_type="application/json",
    )


@pytest.fixture
def weeks(cast, books, book_time):
    """Paula's and Ada's weeks of 9 November, Oscar leading Ada's practice."""
    Practice.objects.filter(pk=cast.networking.pk).update(lead=cast.other_partner_record)
    book_time(cast.partner, books.partner_rate, 90, day=DAY)
    book_time(cast.associate, books.associate_rate, 30, day=DAY)
    return (
        Timesheet.objects.get(partner=cast.partner_record),
        Timesheet.objects.get(partner=cast.associate_record),
    )


@pytest.fixture
def block(cast):
    return ten_hour_block(cast, 100, block_price=Decimal("900.00"))[0]


SEES_SHEETS = {
    "admin": {"paula", "ada"},
    "partner": {"paula"},
    "associate": {"ada"},
    "other_partner": {"ada"},  # the lead of Ada's practice
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_own_weeks_and_nothing_else(cast, weeks, api_as, role):
    client = api_as(getattr(cast, role))
    paula, ada = weeks
    sheets = {"paula": paula.pk, "ada": ada.pk}
    seen = {sheets[name] for name in SEES_SHEETS.get(role, set())}
    listed = client.get(f"{API}/timesheets")
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == seen
    for name, pk in sheets.items():
        expected = 200 if pk in seen else 404
        assert client.get(f"{API}/timesheets/{pk}").status_code == expected, name
        for act in ("submit", "approve"):
            answer = send(client, "POST", f"/timesheets/{pk}/{act}")
            assert answer.status_code in ({200, 403, 409} if pk in seen else {404}), (name, act)


def test_a_week_answers_its_entries_and_totals(cast, weeks, api_as):
    paula, _ = weeks
    answer = api_as(cast.partner).get(f"{API}/timesheets?week=2026-11-15")
    (item,) = answer.json()["items"]
    assert item["id"] == paula.pk
    assert (item["week_start"], item["week_end"]) == ("2026-11-09", "2026-11-15")
    assert (item["state"], item["worked_minutes"], item["billable_minutes"]) == ("open", 90, 90)
    assert [entry["worked_minutes"] for entry in item["entries"]] == [90]


def test_submit_approve_and_refused_moves(cast, weeks, api_as):
    paula, _ = weeks
    mine, admin = api_as(cast.partner), api_as(cast.admin)
    early = send(admin, "POST", f"/timesheets/{paula.pk}/approve")
    assert early.status_code == 409
    assert early.json()["status"] == "open" and early.json()["allowed"] == ["submit"]
    assert send(mine, "POST", f"/timesheets/{paula.pk}/submit").json()["state"] == "submitted"
    own = send(mine, "POST", f"/timesheets/{paula.pk}/approve")
    assert own.status_code == 403 and "own week" in own.json()["detail"]
    approved = send(admin, "POST", f"/timesheets/{paula.pk}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    again = send(admin, "POST", f"/timesheets/{paula.pk}/reject", {"reason": "late"})
    assert again.status_code == 409 and again.json()["allowed"] == []
    booked = send(
        mine,
        "POST",
        "/time-entries",
        {"contract_line": paula.entries.first().contract_line_id, "worked_on": "2026-11-11"}
        | {"worked_minutes": 30},
    )
    assert booked.status_code == 400
    assert booked.json()["errors"][0]["field"] == "worked_on"
    assert TimeEntry.objects.filter(timesheet=paula).count() == 1


def test_a_lead_rejects_with_a_reason(cast, weeks, api_as):
    _, ada = weeks
    send(api_as(cast.associate), "POST", f"/timesheets/{ada.pk}/submit")
    lead = api_as(cast.other_partner)
    for payload in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "more": 1}):
        refused = send(lead, "POST", f"/timesheets/{ada.pk}/reject", payload)
        assert refused.status_code == 400, payload
    ada.refresh_from_db()
    assert ada.state == "submitted"
    rejected = send(lead, "POST", f"/timesheets/{ada.pk}/reject", {"reason": "Name the site."})
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "Name the site.")


def test_a_correction_of_a_locked_week_answers_the_reversal(cast, weeks, api_as):
    paula, _ = weeks
    entry = paula.entries.get()
    approve_weeks(cast)
    mine = api_as(cast.partner)
    bad = send(mine, "POST", f"/time-entries/{entry.pk}/correct", {"worked_minutes": 5000})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "worked_minutes"
    other = send(api_as(cast.other_partner), "POST", f"/time-entries/{entry.pk}/correct", {})
    assert other.status_code == 404
    answer = send(mine, "POST", f"/time-entries/{entry.pk}/correct", {"worked_minutes": 60})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["reversal"]["worked_minutes"] == -90
    assert body["reversal"]["reverses_id"] == entry.pk
    assert body["entry"]["worked_minutes"] == 60
    assert body["entry"]["timesheet_id"] != paula.pk
    entry.refresh_from_db()
    assert entry.worked_minutes == 90


def test_only_approved_time_is_invoiced_through_the_api_weeks(cast, weeks, api_as):
    paula, ada = weeks
    admin = api_as(cast.admin)
    send(api_as(cast.partner), "POST", f"/timesheets/{paula.pk}/submit")
    send(admin, "POST", f"/timesheets/{paula.pk}/approve")
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    hourly = Invoice.objects.get(client=cast.acme).lines.filter(contract_line__unit="hour")
    assert [line.description for line in hourly] == ["Partner time"]
    assert TimeEntry.objects.get(timesheet=ada).invoice_line is None


@pytest.mark.parametrize("role", ROLES)
def test_the_block_burn_down_and_top_up_by_role(cast, block, api_as, role):
    client = api_as(getattr(cast, role))
    readers = {"admin", "partner", "associate"}  # those who see Acme's contracts
    shown = client.get(f"{API}/contracts/{block.pk}/block")
    assert shown.status_code == (200 if role in readers else 404)
    added = send(client, "POST", f"/contracts/{block.pk}/top-ups", {"minutes": 60, "price": 90})
    expected = 201 if role == "admin" else (403 if role in readers else 404)
    assert added.status_code == expected
    assert BlockTopUp.objects.count() == (1 if role == "admin" else 0)


def test_a_top_up_answers_the_new_burn_down(cast, block, book_time, api_as):
    book_time(cast.partner, block.lines.get(), 5 * 60)
    admin = api_as(cast.admin)
    before = admin.get(f"{API}/contracts/{block.pk}/block").json()
    assert before == {
        "contract_id": block.pk,
        "bought_hours": "10.00",
        "used_hours": "5.00",
        "left_hours": "5.00",
        "percent_used": 50,
        "warn_at_percent": 80,
        "warning": False,
        "after_hours_extra_hours": "0.00",  # no multiplier above 1: nothing burns more
        "after_hours_multipliers": [],
    }
    for payload in ({"minutes": 0, "price": 1}, {"minutes": 60, "price": -1}, {"minutes": 60}):
        assert send(admin, "POST", f"/contracts/{block.pk}/top-ups", payload).status_code == 400
    added = send(
        admin, "POST", f"/contracts/{block.pk}/top-ups", {"minutes": 300, "price": "450.00"}
    )
    assert added.status_code == 201
    assert added.json()["block"]["bought_hours"] == "15.00"
    assert added.json()["block"]["left_hours"] == "10.00"


@pytest.mark.parametrize("role", ROLES)
def test_billed_vs_counted_is_the_practice_admins(cast, books, api_as, role):
    answer = api_as(getattr(cast, role)).get(f"{API}/billing/drift")
    assert answer.status_code == (200 if role == "admin" else 403)


def test_billed_vs_counted_figures(cast, books, api_as):
    approve_weeks(cast)
    invoicing.run_invoices(cast.admin, cast.security, MONTH, source=Source.CLI)
    issuing.approve_invoice(cast.admin, Invoice.objects.get(client=cast.acme), source=Source.CLI)
    cast.acme_server.delete()
    admin = api_as(cast.admin)
    rows = admin.get(f"{API}/billing/drift?practice={cast.security.pk}").json()
    device = next(row for row in rows if row["contract_line_id"] == books.per_device.pk)
    assert (device["billed"], device["counted"], device["difference"]) == ("2.00", "1", "-1.00")
    assert device["difference_amount"] == "-12.50"
    bad = admin.get(f"{API}/billing/drift?practice=999999")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "practice"
