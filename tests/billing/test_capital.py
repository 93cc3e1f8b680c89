"""Capital accounts: every change of a balance is a balanced ledger transaction (buy-in paid or
withheld from shares, the retained pool allocated by vested units, the buy-out), the pool's
allocation sums to the cent and is made once a month, and bad terms are refused by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thirdway.audit.models import Source
from thirdway.billing import capital, issuing, ledger
from thirdway.billing.engine.capital import (
    allocate_pool,
    buy_out,
    fraction_to_money,
    months_between,
    vested_units,
)
from thirdway.billing.models import CapitalTerms, LedgerTransaction, Leg, PoolAllocation
from thirdway.billing.statements import statement

from .capital_cast import D, join_security, paid_invoice, terms


def _balanced() -> None:
    for posted in LedgerTransaction.objects.all():
        assert ledger.total(posted.legs.all()) == 0, posted


# --- the engine ----------------------------------------------------------------------------------


def test_units_vest_linearly_by_whole_months():
    start = dt.date(2026, 1, 31)
    assert vested_units(120, start, 12, dt.date(2026, 1, 30)) == 0
    assert vested_units(120, start, 12, dt.date(2026, 2, 27)) == 0
    assert vested_units(120, start, 12, dt.date(2026, 2, 28)) == 10  # the month's last day
    assert vested_units(120, start, 12, dt.date(2026, 7, 31)) == 60
    assert vested_units(120, start, 12, dt.date(2031, 1, 1)) == 120
    assert vested_units(7, start, 0, start) == 7
    assert vested_units(10, dt.date(2026, 1, 1), 3, dt.date(2026, 2, 1)) == Fraction(10, 3)
    assert months_between(dt.date(2026, 3, 15), dt.date(2027, 3, 14)) == 11
    with pytest.raises(ValueError):
        vested_units(10, start, 121, start)


def test_the_buy_out_formula_rounds_half_up_once():
    # unit value 1000.01 / 200 = 5.00005; 50 vested units → 250.0025 → 250.00
    figures = buy_out(D("10.00"), Fraction(50), D("1000.01"), 200)
    assert (figures.unit_value, figures.units_part, figures.amount) == (
        D("5.00"),
        D("250.00"),
        D("260.00"),
    )
    assert fraction_to_money(Fraction(1, 200)) == D("0.01")  # 0.005 → 0.01, not half-even
    assert fraction_to_money(Fraction(-1, 200)) == D("-0.01")
    assert buy_out(D("5.00"), Fraction(3), D("9.00"), 0).amount == D("5.00")


HOLDINGS = st.tuples(
    st.integers(min_value=0, max_value=10**6),  # units held
    st.integers(min_value=0, max_value=120),  # whole months since the vesting start
    st.integers(min_value=0, max_value=120),  # vesting months
)


# The machine running the suite may be busy: generating thirty holdings is not the slow part.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cents=st.integers(min_value=-(10**9), max_value=10**11),
    holdings=st.lists(HOLDINGS, min_size=1, max_size=30),
)
def test_an_allocation_always_sums_to_the_pool_to_the_cent(cents, holdings):
    start = dt.date(2020, 1, 1)
    units = [
        vested_units(held, start, months, dt.date(2020 + elapsed // 12, elapsed % 12 + 1, 1))
        for held, elapsed, months in holdings
    ]
    if not sum(units):
        units[0] = Fraction(1)
    amount = Decimal(cents).scaleb(-2)
    parts = allocate_pool(amount, list(enumerate(units)))
    assert sum(part for _, part in parts) == amount
    for (_, part), held in zip(parts, units, strict=True):
        exact = Fraction(amount) * held / sum(units)
        assert abs(Fraction(part) - exact) < Fraction(1, 100)
        if held == 0:
            assert part == 0


def test_nothing_vested_cannot_take_a_pool():
    with pytest.raises(ValueError):
        allocate_pool(D("10.00"), [("a", Fraction(0))])


# --- terms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("buy_in", D("-1.00")),
        ("units", 0),
        ("units", 1_000_001),
        ("vesting_months", 121),
        ("withhold_percent", D("100.01")),
        ("buy_in_method", "later"),
    ],
)
def test_bad_terms_are_refused_naming_the_field_and_nothing_is_written(cast, field, value):
    with pytest.raises(ValidationError) as refused:
        terms(cast, cast.partner_record, **{field: value})
    assert field in refused.value.message_dict
    assert not CapitalTerms.objects.exists()


def test_withheld_needs_a_percentage_and_the_partner_a_place_in_the_practice(cast):
    with pytest.raises(ValidationError) as refused:
        terms(cast, cast.partner_record, buy_in_method="withheld")
    assert "withhold_percent" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        terms(cast, cast.other_partner_record)  # Oscar is not in Security
    assert "partner" in refused.value.message_dict
    assert not CapitalTerms.objects.exists()


def test_terms_change_in_place_and_only_a_practice_admin_sets_them(cast):
    from django.core.exceptions import PermissionDenied

    made = terms(cast, cast.partner_record)
    changed = terms(cast, cast.partner_record, units=25)
    assert (changed.pk, changed.units) == (made.pk, 25)
    with pytest.raises(PermissionDenied):
        capital.set_terms(
            cast.partner,
            practice=cast.security,
            partner=cast.partner_record,
            source=Source.CLI,
            units=99,
        )
    assert CapitalTerms.objects.get().units == 25


# --- buy-in --------------------------------------------------------------------------------------


def test_a_buy_in_paid_at_once_credits_capital_against_cash(cast):
    held = terms(cast, cast.partner_record)
    capital.record_buy_in(cast.admin, held, D("400.00"), source=Source.CLI)
    assert capital.balance(held) == D("400.00")
    assert capital.buy_in_left(held) == D("600.00")
    for amount in (D("0"), D("-5.00"), D("600.01"), D("1.001")):
        with pytest.raises(ValidationError) as refused:
            capital.record_buy_in(cast.admin, held, amount, source=Source.CLI)
        assert "amount" in refused.value.message_dict
    capital.record_buy_in(cast.admin, held, D("600.00"), source=Source.CLI)
    assert capital.buy_in_left(held) == 0
    assert LedgerTransaction.objects.filter(kind="buy_in").count() == 2
    _balanced()


def test_a_buy_in_withheld_from_shares_when_they_become_payable(cast, books):
    held = terms(cast, cast.partner_record, buy_in_method="withheld", withhold_percent=D("50.00"))
    invoice = paid_invoice(cast)
    payable = statement(cast.partner_record, timezone.localdate())
    withheld = LedgerTransaction.objects.get(kind="withheld")
    share = D(withheld.facts["share"])
    assert share > 0
    taken = min(D("1000.00"), (share / 2).quantize(D("0.01")))
    assert capital.balance(held) == taken == capital.buy_in_paid(held)
    # the statement shows the share payable less what was withheld, and no capital legs
    assert sum(payable.payable.values()) == share - taken
    assert all(row.leg.account.kind in ("owed", "payable") for row in payable.rows)
    _balanced()
    # a credit note gives the share back, and the withholding with it
    issuing.credit_invoice(cast.admin, invoice, source=Source.CLI)
    assert capital.balance(held) == 0
    assert capital.buy_in_left(held) == D("1000.00")
    _balanced()


def test_a_buy_in_paid_at_once_is_not_withheld(cast, books):
    terms(cast, cast.partner_record)
    paid_invoice(cast)
    assert not LedgerTransaction.objects.filter(kind="withheld").exists()


# --- the pool ------------------------------------------------------------------------------------


def test_the_pool_is_allocated_by_vested_units_once_a_month(cast, books):
    join_security(cast)
    paula = terms(cast, cast.partner_record, units=2)
    oscar = terms(cast, cast.other_partner_record, units=1)
    paid_invoice(cast)
    pool = capital.retained_pool(cast.security)
    assert pool > 0
    month = timezone.localdate()
    made, created = capital.allocate(cast.admin, cast.security, month, source=Source.CLI)
    assert created and made.amount == pool
    assert capital.balance(paula) + capital.balance(oscar) == pool
    assert capital.balance(paula) >= 2 * capital.balance(oscar) - D("0.01")
    assert capital.retained_pool(cast.security) == 0
    again, created = capital.allocate(cast.admin, cast.security, month, source=Source.CLI)
    assert (again.pk, created) == (made.pk, False)
    assert LedgerTransaction.objects.filter(kind="allocation").count() == 1
    assert PoolAllocation.objects.count() == 1
    _balanced()
    # a month before the one allocated, or one not begun, is refused
    for refused_month in (month.replace(day=1) - dt.timedelta(days=1), month + dt.timedelta(40)):
        with pytest.raises(ValidationError) as refused:
            capital.allocate(cast.admin, cast.security, refused_month, source=Source.CLI)
        assert "month" in refused.value.message_dict


def test_units_not_vested_yet_take_no_share_and_none_vested_is_refused(cast, books):
    join_security(cast)
    later = timezone.localdate() + dt.timedelta(days=400)
    terms(cast, cast.partner_record, vesting_starts_on=later, vesting_months=12)
    paid_invoice(cast)
    with pytest.raises(ValidationError) as refused:
        capital.allocate(cast.admin, cast.security, timezone.localdate(), source=Source.CLI)
    assert "month" in refused.value.message_dict
    assert not PoolAllocation.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="allocation").exists()


# --- buy-out -------------------------------------------------------------------------------------


def test_a_buy_out_closes_the_account_and_pays_balance_and_vested_units(cast, books):
    join_security(cast)
    paula = terms(cast, cast.partner_record, units=3, vesting_months=0)
    terms(cast, cast.other_partner_record, units=1)
    capital.record_buy_in(cast.admin, paula, D("1000.00"), source=Source.CLI)
    paid_invoice(cast)
    pool = capital.retained_pool(cast.security)
    figures = capital.preview_buy_out(paula)
    assert figures.balance == D("1000.00")
    assert figures.total_units == 4
    assert figures.amount == D("1000.00") + (pool * 3 / 4).quantize(D("0.01"))
    before = Leg.objects.count()
    capital.record_buy_out(cast.admin, paula, source=Source.CLI)
    assert Leg.objects.count() == before + 3
    assert capital.balance(paula) == 0
    assert capital.retained_pool(cast.security) == pool - figures.units_part
    assert statement(cast.partner_record, timezone.localdate()).payable
    with pytest.raises(ValidationError) as refused:
        capital.record_buy_out(cast.admin, paula, source=Source.CLI)
    assert "partner" in refused.value.message_dict
    with pytest.raises(ValidationError):
        capital.record_buy_in(cast.admin, paula, D("1.00"), source=Source.CLI)
    # bought out: no more units in the divisor
    assert capital.units_held(cast.security) == 1
    _balanced()
