"""A buy-out paid in instalments: the amounts add up to the buy-out to the cent, the due days
follow the months, each instalment is posted once when paid (cash out of the partner's payable
share), the schedule is agreed once by a practice admin and read by the partner bought out,
and bad input is refused naming the field with nothing written.  Part of a partner's capital
returned to them, at most the balance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from thirdway.audit.models import Source
from thirdway.billing import capital, instalments, ledger
from thirdway.billing.engine.capital import add_months, due_dates, instalment_amounts
from thirdway.billing.models import BuyOutInstalment, LedgerTransaction
from thirdway.billing.statements import statement

from .capital_cast import D, join_security, terms
from .test_api import ROLES, send

# --- the engine ----------------------------------------------------------------------------------


def test_equal_instalments_give_the_cents_left_over_to_the_first():
    assert instalment_amounts(D("100.00"), 3) == [D("33.34"), D("33.33"), D("33.33")]
    assert instalment_amounts(D("100.02"), 3) == [D("33.34")] * 3
    assert instalment_amounts(D("0.05"), 5) == [D("0.01")] * 5
    assert instalment_amounts(D("1.21"), 120)[:2] == [D("0.02"), D("0.01")]
    for count in (0, 121):
        with pytest.raises(ValueError):
            instalment_amounts(D("100.00"), count)
    with pytest.raises(ValueError):
        instalment_amounts(D("0.04"), 5)


@given(
    cents=st.integers(min_value=120, max_value=10**11),
    count=st.integers(min_value=1, max_value=120),
)
def test_instalments_always_add_up_to_the_buy_out_to_the_cent(cents, count):
    total = D(cents).scaleb(-2)
    parts = instalment_amounts(total, count)
    assert len(parts) == count and sum(parts) == total
    assert max(parts) - min(parts) <= D("0.01")
    assert parts == sorted(parts, reverse=True)
    assert parts == instalment_amounts(total, count)


def test_due_days_follow_the_months_from_the_first():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 15), 2) == dt.date(2028, 1, 15)
    assert due_dates(dt.date(2027, 1, 31), 3) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
    ]
    assert due_dates(dt.date(2027, 1, 1), 3, every_months=3)[-1] == dt.date(2027, 7, 1)


# --- the service ---------------------------------------------------------------------------------


def _bought_out(cast, amount="1000.00"):
    join_security(cast)
    paula = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, paula, D(amount), source=Source.CLI)
    return capital.record_buy_out(cast.admin, paula, source=Source.CLI)


def _agree(cast, paula, count=3, **extra):
    extra.setdefault("first_due_on", timezone.localdate())
    return instalments.agree(cast.admin, paula, count=count, source=Source.CLI, **extra)


def test_a_buy_out_in_instalments_is_paid_one_posting_each_and_never_twice(cast):
    paula = _bought_out(cast)
    agreed = _agree(cast, paula, 3)
    assert [i.amount for i in agreed.instalments] == [D("333.34"), D("333.33"), D("333.33")]
    today = timezone.localdate()
    assert [i.due_on for i in agreed.instalments] == due_dates(today, 3)
    assert (agreed.paid, agreed.outstanding) == (D("0.00"), D("1000.00"))
    first = agreed.instalments[0]
    paid, posted = instalments.pay(cast.admin, first, source=Source.CLI)
    assert posted and paid.paid.kind == "instalment"
    again, posted_again = instalments.pay(cast.admin, first, source=Source.CLI)
    assert not posted_again and again.paid_id == paid.paid_id
    assert LedgerTransaction.objects.filter(kind="instalment").count() == 1
    legs = {(leg.account.kind, leg.amount) for leg in paid.paid.legs.all()}
    assert legs == {("payable", D("333.34")), ("cash", D("-333.34"))}
    found = instalments.schedule(paula)
    assert (found.paid, found.outstanding) == (D("333.34"), D("666.66"))
    # the statement shows the payment as the buy-out leaving the partner's payable share
    payable = statement(cast.partner_record, today).payable
    assert sum(payable.values()) == D("666.66")
    for posted_tx in LedgerTransaction.objects.all():
        assert ledger.total(posted_tx.legs.all()) == 0


def test_amounts_agreed_one_by_one_must_add_up_to_the_buy_out(cast):
    paula = _bought_out(cast)
    with pytest.raises(ValidationError) as refused:
        _agree(cast, paula, 2, amounts=[D("500.00"), D("499.99")])
    assert "amounts" in refused.value.message_dict
    assert not BuyOutInstalment.objects.exists()
    agreed = _agree(cast, paula, 2, amounts=[D("900.00"), D("100.00")])
    assert [i.amount for i in agreed.instalments] == [D("900.00"), D("100.00")]
    with pytest.raises(ValidationError) as twice:
        _agree(cast, paula, 2)
    assert "instalments" in twice.value.message_dict
    assert BuyOutInstalment.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count": 0}, "instalments"),
        ({"count": 121}, "instalments"),
        ({"every_months": 0}, "every_months"),
        ({"every_months": 13}, "every_months"),
        ({"first_due_on": dt.date(2020, 1, 1)}, "first_due_on"),
        ({"amounts": [D("1.00")] * 3}, "amounts"),
        ({"amounts": [D("1000.00")]}, "amounts"),
        ({"amounts": [D("1000.00"), D("0.00"), D("0.00")]}, "amounts"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(cast, change, field):
    paula = _bought_out(cast)
    data = {"count": 3, "first_due_on": timezone.localdate(), **change}
    with pytest.raises(ValidationError) as refused:
        instalments.agree(cast.admin, paula, source=Source.CLI, **data)
    assert field in refused.value.message_dict
    assert not BuyOutInstalment.objects.exists()


def test_no_schedule_before_the_buy_out(cast):
    join_security(cast)
    paula = terms(cast, cast.partner_record)
    with pytest.raises(ValidationError) as refused:
        _agree(cast, paula)
    assert "partner" in refused.value.message_dict


# --- the API -------------------------------------------------------------------------------------


def test_the_api_agrees_a_schedule_and_marks_an_instalment_paid_once(cast, api_as):
    paula = _bought_out(cast)
    admin = api_as(cast.admin)
    url = f"/billing/capital/{paula.pk}/instalments"
    body = {"instalments": 4, "first_due_on": str(timezone.localdate())}
    for bad, field in (
        ({"instalments": 0}, "instalments"),
        ({"instalments": 121}, "instalments"),
        ({"first_due_on": "2020-01-01"}, "first_due_on"),
        ({"amounts": ["1.00"] * 4}, "amounts"),
        ({"every_months": 99}, "every_months"),
    ):
        answer = send(admin, "POST", url, {**body, **bad})
        assert answer.status_code == 400, answer.content
        assert field in {error["field"] for error in answer.json()["errors"]}
    assert not BuyOutInstalment.objects.exists()
    made = send(admin, "POST", url, body)
    assert made.status_code == 201, made.content
    assert [i["amount"] for i in made.json()["instalments"]] == ["250.00"] * 4
    assert made.json()["buy_out_outstanding"] == "1000.00"
    first = send(admin, "POST", f"{url}/1/paid")
    assert first.status_code == 201
    assert first.json()["buy_out_paid"] == "250.00"
    again = send(admin, "POST", f"{url}/1/paid")
    assert (again.status_code, again.json()["buy_out_paid"]) == (200, "250.00")
    assert LedgerTransaction.objects.filter(kind="instalment").count() == 1
    assert send(admin, "POST", f"{url}/9/paid").status_code == 404
    mine = send(api_as(cast.partner), "GET", f"/billing/capital/{paula.pk}")
    assert mine.status_code == 200
    assert [i["paid"] for i in mine.json()["instalments"]] == [True, False, False, False]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_the_practice_admin_agrees_and_marks_paid(cast, api_as, role):
    paula = _bought_out(cast)
    _agree(cast, paula, 2)
    client = api_as(getattr(cast, role))
    url = f"/billing/capital/{paula.pk}/instalments"
    answers = [
        send(client, "POST", url, {"instalments": 2, "first_due_on": str(timezone.localdate())}),
        send(client, "POST", f"{url}/1/paid"),
    ]
    assert {answer.status_code for answer in answers} <= {403, 404}
    assert BuyOutInstalment.objects.count() == 2
    assert not LedgerTransaction.objects.filter(kind="instalment").exists()
    one = send(client, "GET", f"/billing/capital/{paula.pk}")
    assert one.status_code == (200 if role == "partner" else 404)


# --- a partial return of capital -----------------------------------------------------------------


def test_part_of_the_capital_is_returned_and_becomes_payable(cast):
    join_security(cast)
    paula = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, paula, D("1000.00"), source=Source.CLI)
    for bad in (D("0"), D("-1.00"), D("1000.01"), D("0.001")):
        with pytest.raises(ValidationError) as refused:
            capital.return_capital(cast.admin, paula, bad, source=Source.CLI)
        assert "amount" in refused.value.message_dict
    assert not LedgerTransaction.objects.filter(kind="return").exists()
    capital.return_capital(cast.admin, paula, D("250.00"), source=Source.CLI)
    assert capital.balance(paula) == D("750.00")
    assert capital.buy_in_paid(paula) == D("1000.00")  # what was paid in stays paid in
    assert sum(statement(cast.partner_record, timezone.localdate()).payable.values()) == D("250")
    assert capital.preview_buy_out(paula).balance == D("750.00")


def test_the_api_returns_capital_for_the_practice_admin_only(cast, api_as):
    join_security(cast)
    paula = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, paula, D("100.00"), source=Source.CLI)
    url = f"/billing/capital/{paula.pk}/return"
    for role in [r for r in ROLES if r != "admin"]:
        answer = send(api_as(getattr(cast, role)), "POST", url, {"amount": "10.00"})
        assert answer.status_code in (403, 404), role
    admin = api_as(cast.admin)
    too_much = send(admin, "POST", url, {"amount": "100.01"})
    assert too_much.status_code == 400
    assert too_much.json()["errors"][0]["field"] == "amount"
    assert not LedgerTransaction.objects.filter(kind="return").exists()
    made = send(admin, "POST", url, {"amount": "40.00"})
    assert (made.status_code, made.json()["balance"]) == (201, "60.00")
    assert made.json()["entries"][-1]["kind"] == "return"
