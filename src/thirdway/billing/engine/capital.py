"""Capital accounts in numbers: vesting, the allocation of the retained pool and the buy-out.

Pure Python, no Django.  Units vest linearly by whole months from the vesting start; the pool
of a period is split by vested units with the largest remainder, so the parts always add up to
the pool to the cent; a buy-out is the capital balance plus the vested units at the unit value
(the retained pool divided by all units held), rounded half up to the cent; a buy-out paid
in instalments is split into equal cents by the largest remainder (the earlier instalments
take the cents left over), each due a whole number of months after the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from thirdway.billing.engine.money import allocate, allocate_whole, cents

K = TypeVar("K", bound=Hashable)
LONGEST_VESTING = 120
MOST_INSTALMENTS = 120


def months_between(start: dt.date, on: dt.date) -> int:
    """Whole months from ``start`` to ``on`` (0 before the start; the 31st counts a month on
    the last day of a shorter month)."""
    if on < start:
        return 0
    months = (on.year - start.year) * 12 + on.month - start.month
    month_end = (on.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    if on.day < start.day and on != month_end:
        months -= 1
    return max(0, months)


def vested_units(units: int, starts_on: dt.date, months: int, on: dt.date) -> Fraction:
    """The units vested on ``on``: none before the start, all after ``months`` whole months
    (at once when ``months`` is 0), linearly by whole months between."""
    if units < 0 or not 0 <= months <= LONGEST_VESTING:
        raise ValueError("units are not negative and vesting lasts 0 to 120 months")
    if on < starts_on:
        return Fraction(0)
    if months == 0:
        return Fraction(units)
    elapsed = min(months_between(starts_on, on), months)
    return Fraction(units * elapsed, months)


def allocate_pool(amount: Decimal, vested: Sequence[tuple[K, Fraction]]) -> list[tuple[K, Decimal]]:
    """Split ``amount`` between holders by their vested units (largest remainder, ties in the
    order given); holders with nothing vested get nothing.  Refused when nothing is vested."""
    total = sum((units for _, units in vested), Fraction(0))
    if total <= 0 or any(units < 0 for _, units in vested):
        raise ValueError("the pool is allocated by vested units, and none are vested")
    return allocate(amount, [(key, units / total) for key, units in vested])


def fraction_to_money(value: Fraction) -> Decimal:
    """An exact fraction rounded to the cent, half away from zero, in integers only."""
    sign = -1 if value < 0 else 1
    hundredths = abs(value) * 100
    whole, rest = divmod(hundredths.numerator, hundredths.denominator)
    if 2 * rest >= hundredths.denominator:
        whole += 1
    return Decimal(sign * whole).scaleb(-2)


@dataclass(frozen=True)
class BuyOut:
    """A buy-out by the formula: ``balance + vested * unit value``, the unit value being the
    retained pool divided by all units held."""

    balance: Decimal
    vested: Fraction
    pool: Decimal
    total_units: int
    unit_value: Decimal
    units_part: Decimal
    amount: Decimal


def buy_out(balance: Decimal, vested: Fraction, pool: Decimal, total_units: int) -> BuyOut:
    """What a retiring partner is paid.  The units part is computed from exact fractions and
    rounded once, half up; the unit value shown is rounded to the cent for reading only."""
    unit = Fraction(pool) / total_units if total_units > 0 else Fraction(0)
    units_part = fraction_to_money(vested * unit)
    shown = fraction_to_money(unit)
    return BuyOut(
        balance=balance,
        vested=vested,
        pool=pool,
        total_units=total_units,
        unit_value=shown,
        units_part=units_part,
        amount=balance + units_part,
    )


def instalment_amounts(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` instalments that add up to it to the cent: each the floor of the
    equal part in cents, the cents left over one each to the first instalments (so the same
    buy-out always gives the same schedule).  Refused below a cent an instalment."""
    if not 1 <= count <= MOST_INSTALMENTS:
        raise ValueError("a buy-out is paid in 1 to 120 instalments")
    if total <= 0 or cents(total) < count:
        raise ValueError("every instalment is at least a cent")
    return allocate_whole(total, [1] * count, count)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, kept on the last day of a shorter month (31 January and
    one month: 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first = dt.date(year, month + 1, 1)
    last = ((first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)).day
    return first.replace(day=min(day.day, last))


def due_dates(first: dt.date, count: int, every_months: int = 1) -> list[dt.date]:
    """The due dates of ``count`` instalments, the first on ``first``, then every
    ``every_months`` months from it (each counted from the first, so a 31st stays a 31st)."""
    return [add_months(first, number * every_months) for number in range(count)]
