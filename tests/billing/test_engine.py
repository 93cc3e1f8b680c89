"""The split engine: every line splits to the cent, the same way every time, by the rules."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thirdway.billing.engine import (
    RULES,
    LineFacts,
    Recipient,
    RulesRefused,
    SplitRules,
    allocate,
    split_line,
    to_money,
)

D = Decimal


@st.composite
def rules(draw) -> SplitRules:
    """Six whole or half percentages that add up to 100."""
    cuts = sorted(draw(st.lists(st.integers(0, 200), min_size=5, max_size=5)))
    bounds = [0, *cuts, 200]
    values = [D(high - low) / 2 for low, high in itertools.pairwise(bounds)]
    return SplitRules(
        "Drawn",
        **dict(zip(RULES, values, strict=True)),
        fade_years=draw(st.integers(0, 6)),
        delivery_basis=draw(st.sampled_from(["time", "tickets"])),
    )


amounts = st.integers(0, 10**9).map(lambda cents: D(cents).scaleb(-2))
partners = st.sampled_from([str(n) for n in range(1, 12)])


@st.composite
def facts(draw) -> LineFacts:
    resolved = draw(st.integers(0, 50))
    return LineFacts(
        net=draw(amounts),
        originator=draw(st.none() | partners),
        years_since_origination=draw(st.integers(0, 10)),
        referrer=draw(st.none() | partners),
        delivery=draw(st.dictionaries(partners, st.integers(0, 10_000), max_size=6)),
        tickets_resolved=resolved,
        desk_resolved=draw(st.integers(0, resolved)),
    )


@settings(max_examples=300, deadline=None)
@given(rules(), facts())
def test_shares_sum_to_the_line_to_the_cent(split_rules, line):
    shares = split_line(split_rules, line)
    assert sum((share.amount for share in shares), D(0)) == line.net
    for share in shares:
        assert share.amount > 0
        assert share.amount == share.amount.quantize(D("0.01"))


@settings(max_examples=200, deadline=None)
@given(rules(), facts())
def test_a_split_does_not_depend_on_the_order_the_work_was_listed_in(split_rules, line):
    backwards = LineFacts(**{**line.__dict__, "delivery": dict(reversed(line.delivery.items()))})
    assert split_line(split_rules, line) == split_line(split_rules, backwards)


@settings(max_examples=200, deadline=None)
@given(rules(), facts())
def test_a_credit_mirrors_the_line_to_the_cent(split_rules, line):
    credit = LineFacts(**{**line.__dict__, "net": -line.net})
    mirrored = [(s.rule, s.recipient, -s.amount) for s in split_line(split_rules, line)]
    assert [(s.rule, s.recipient, s.amount) for s in split_line(split_rules, credit)] == mirrored


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10**8).map(lambda c: D(c).scaleb(-2)),
    st.lists(st.integers(1, 1000), min_size=1, max_size=8),
)
def test_each_part_is_within_a_cent_of_its_exact_share(amount, raw):
    total = sum(raw)
    weights = [(i, Fraction(w, total)) for i, w in enumerate(raw)]
    parts = allocate(amount, weights)
    for (_, weight), (_, part) in zip(weights, parts, strict=True):
        assert abs(Fraction(part) - Fraction(amount) * weight) < Fraction(1, 100)


def test_equal_remainders_go_to_the_first_listed():
    thirds = [(key, Fraction(1, 3)) for key in "abc"]
    assert allocate(D("1.00"), thirds) == [("a", D("0.34")), ("b", D("0.33")), ("c", D("0.33"))]
    assert allocate(D("0.02"), thirds) == [("a", D("0.01")), ("b", D("0.01")), ("c", D("0.00"))]


STANDARD = SplitRules(
    "Standard", origination=D(20), delivery=D(60), pool=D(10), network=D(5), desk_fee=D(5)
)


def _by_rule(shares):
    return {(s.rule, str(s.recipient)): s.amount for s in shares}


def test_a_line_splits_by_each_rule():
    line = LineFacts(
        net=D("1000.00"),
        originator="1",
        delivery={"2": 90, "3": 30},
        tickets_resolved=4,
        desk_resolved=1,
    )
    assert _by_rule(split_line(STANDARD, line)) == {
        ("origination", "partner:1"): D("200.00"),
        # 60 % and the unused 3.75 % of the desk fee, 3:1: 478.125 and 159.375, the tie's
        # cent to the first listed
        ("delivery", "partner:2"): D("478.13"),
        ("delivery", "partner:3"): D("159.37"),
        ("pool", "pool"): D("100.00"),
        ("network", "network"): D("50.00"),
        ("desk_fee", "desk"): D("12.50"),  # 5 % for a quarter of the tickets
    }


def test_origination_fades_by_the_year_into_delivery():
    fading = SplitRules("Fading", origination=D(20), delivery=D(80), fade_years=4)
    shares = [
        _by_rule(split_line(fading, LineFacts(D("100.00"), "1", years, delivery={"2": 1})))
        for years in (0, 1, 3, 4, 9)
    ]
    assert [s.get(("origination", "partner:1")) for s in shares] == [
        D("20.00"),
        D("15.00"),
        D("5.00"),
        None,
        None,
    ]
    assert shares[-1] == {("delivery", "partner:2"): D("100.00")}


def test_a_referrer_takes_the_referral_fee_and_without_one_the_originator_does():
    rules_ = SplitRules("Referral", origination=D(10), delivery=D(85), referral=D(5))
    referred = LineFacts(D("200.00"), "1", referrer="4", delivery={"2": 10})
    assert _by_rule(split_line(rules_, referred))[("referral", "partner:4")] == D("10.00")
    direct = LineFacts(D("200.00"), "1", delivery={"2": 10})
    assert _by_rule(split_line(rules_, direct))[("origination", "partner:1")] == D("30.00")


def test_shares_with_nobody_to_receive_them_go_to_the_pool():
    shares = split_line(STANDARD, LineFacts(D("50.00")))
    assert _by_rule(shares) == {
        ("origination", "pool"): D("10.00"),
        ("delivery", "pool"): D("32.50"),
        ("pool", "pool"): D("5.00"),
        ("network", "network"): D("2.50"),
    }
    assert {s.recipient for s in shares} == {Recipient("pool"), Recipient("network")}


@pytest.mark.parametrize(
    ("changes", "rule", "words"),
    [
        ({"delivery": D(50)}, "delivery", "add up to 90 %, not 100 %"),
        ({"pool": D(-10), "delivery": D(80)}, "pool", "pool rule of Standard is -10 %"),
        ({"network": D(101)}, "network", "network rule of Standard is 101 %"),
        ({"fade_years": -1}, "fade_years", "cannot be negative"),
        ({"delivery_basis": "moods"}, "delivery_basis", "Unknown delivery basis"),
    ],
)
def test_rules_that_do_not_add_up_are_refused_naming_the_rule(changes, rule, words):
    broken = SplitRules(**{**STANDARD.__dict__, **changes})
    with pytest.raises(RulesRefused) as refused:
        split_line(broken, LineFacts(D("10.00")))
    assert refused.value.rule == rule
    assert words in refused.value.message


def test_an_amount_finer_than_a_cent_is_refused():
    with pytest.raises(ValueError, match="more than two decimal places"):
        split_line(STANDARD, LineFacts(D("10.005")))


def test_money_rounds_half_up_not_half_to_even():
    assert [to_money(D(v)) for v in ("0.125", "0.135", "-0.125")] == [
        D("0.13"),
        D("0.14"),
        D("-0.13"),
    ]
