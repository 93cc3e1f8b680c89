"""Money as Decimal with two places, and the split of an amount into cents that add up.

Never floats: weights are exact fractions, so the only rounding is the one the largest
remainder method does, and it is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypeVar

CENT = Decimal("0.01")
K = TypeVar("K", bound=Hashable)


def to_money(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, half away from zero (never Python's half-to-even)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(amount: Decimal) -> int:
    """The whole number of cents of an amount that has at most two decimal places."""
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than two decimal places")
    return int(scaled)


def allocate(amount: Decimal, weights: Sequence[tuple[K, Fraction]]) -> list[tuple[K, Decimal]]:
    """Split ``amount`` by ``weights`` (non-negative, summing to 1) into cents that add up.

    Largest remainder: every part gets the floor of its exact share in cents, and the cents left
    over go one each to the parts with the largest remainders; equal remainders go in the order
    the weights were given, so the same input always gives the same split.  A negative amount
    is split as its opposite and negated, so a reversal mirrors the original to the cent.
    """
    if any(weight < 0 for _, weight in weights) or sum(w for _, w in weights) != 1:
        raise ValueError("weights must be non-negative and sum to 1")
    denominator = math.lcm(*(weight.denominator for _, weight in weights))
    numerators = [weight.numerator * (denominator // weight.denominator) for _, weight in weights]
    parts = allocate_whole(amount, numerators, denominator)
    return [(key, part) for (key, _), part in zip(weights, parts, strict=True)]


def allocate_whole(amount: Decimal, numerators: Sequence[int], denominator: int) -> list[Decimal]:
    """:func:`allocate` with the weights given as whole numerators over one denominator (they
    sum to it): integer arithmetic only, for the engine's hot path."""
    sign = -1 if amount < 0 else 1
    whole = cents(abs(amount))
    floors = []
    remainders = []
    for numerator in numerators:
        part, remainder = divmod(whole * numerator, denominator)
        floors.append(part)
        remainders.append(remainder)
    left = whole - sum(floors)
    if left:
        order = sorted(range(len(floors)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
    return [Decimal(sign * part).scaleb(-2) for part in floors]
