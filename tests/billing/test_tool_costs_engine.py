"""Shared tool costs and clawback periods in the engine: every sum holds to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thirdway.billing.engine import LineFacts, SplitRules, split_line
from thirdway.billing.engine.clawback import claws_back, whole_months
from thirdway.billing.engine.tools import UNITS, ToolCost, deduct

D = Decimal
money = st.integers(0, 10**8).map(lambda cents: D(cents).scaleb(-2))
rates = st.integers(0, 10**6).map(lambda cents: D(cents).scaleb(-2))
tools = st.lists(
    st.builds(
        ToolCost, name=st.text(min_size=1, max_size=5), rate=rates, unit=st.sampled_from(UNITS)
    ),
    max_size=8,
)
counts = st.fixed_dictionaries({unit: st.integers(0, 5000) for unit in UNITS})


@settings(max_examples=300, deadline=None)
@given(tools, counts, st.lists(money, min_size=1, max_size=12))
def test_the_charges_and_the_lines_parts_sum_to_the_same_cent(drawn, counted, nets):
    found = deduct(drawn, counted, nets)
    full = sum((tool.rate * counted[tool.unit] for tool in drawn), D(0))
    assert found.total == min(full, sum(nets, D(0)))
    assert sum(found.per_line, D(0)) == found.total
    assert all(D(0) <= part <= net for part, net in zip(found.per_line, nets, strict=True))
    assert all(charge.amount <= charge.full for charge in found.charges)


@settings(max_examples=200, deadline=None)
@given(tools, counts, st.lists(money, min_size=1, max_size=6))
def test_tool_costs_and_the_split_of_what_is_left_add_up_to_the_invoice(drawn, counted, nets):
    rules = SplitRules("Drawn", origination=D(20), delivery=D(60), pool=D(10), network=D(10))
    found = deduct(drawn, counted, nets)
    shared = D(0)
    for net, part in zip(nets, found.per_line, strict=True):
        shares = split_line(rules, LineFacts(net=net - part, originator="1", delivery={"2": 60}))
        shared += sum((share.amount for share in shares), D(0))
    assert shared + found.total == sum(nets, D(0))


@given(tools, counts, st.lists(money, min_size=1, max_size=6))
def test_the_same_costs_deduct_the_same_way_every_time(drawn, counted, nets):
    assert deduct(drawn, counted, nets) == deduct(drawn, counted, nets)


def test_each_tool_costs_its_rate_times_the_clients_count():
    found = deduct(
        [ToolCost("RMM", D("2.50"), "monitored_device"), ToolCost("Vault", D("1.10"), "user")],
        {"monitored_device": 12, "user": 7},
        [D("500.00"), D("100.00")],
    )
    assert [(c.name, c.count, c.amount) for c in found.charges] == [
        ("RMM", 12, D("30.00")),
        ("Vault", 7, D("7.70")),
    ]
    assert found.per_line == [D("31.42"), D("6.28")]


def test_tools_costing_more_than_the_invoice_deduct_the_invoice_in_proportion():
    found = deduct(
        [ToolCost("A", D("10.00"), "client"), ToolCost("B", D("20.00"), "client")],
        {"client": 1},
        [D("10.00")],
    )
    assert [c.amount for c in found.charges] == [D("3.33"), D("6.67")]
    assert [c.full for c in found.charges] == [D("10.00"), D("20.00")]
    assert found.per_line == [D("10.00")]


def test_a_rate_finer_than_a_cent_or_an_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        deduct([ToolCost("A", D("0.001"), "client")], {"client": 1}, [D(1)])
    with pytest.raises(ValueError):
        deduct([ToolCost("A", D("1"), "seat")], {}, [D(1)])


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2026-01-15", "2026-01-31", 0),
        ("2026-01-15", "2026-02-14", 0),
        ("2026-01-15", "2026-02-15", 1),
        ("2026-01-31", "2026-02-28", 1),
        ("2026-03-01", "2027-02-28", 11),
        ("2026-03-01", "2025-02-28", 0),
    ],
)
def test_whole_months_count_a_month_on_the_same_day_or_the_last_one(start, end, months):
    assert whole_months(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == months


def test_a_client_leaving_within_the_period_is_clawed_back_and_never_with_a_period_of_0():
    first = dt.date(2026, 1, 10)
    assert claws_back(6, first, dt.date(2026, 7, 9))
    assert not claws_back(6, first, dt.date(2026, 7, 10))
    assert not claws_back(0, first, dt.date(2026, 1, 11))
