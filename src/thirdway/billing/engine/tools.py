"""Shared tool costs: what a client's tools cost the practice in a month, taken off the client's
revenue before the split.  Pure Python, no Django.

A practice pays for tools (monitoring, backup, a password manager) per monitored device, per
managed device, per user or per client.  Each month the cost of each tool for a client is its
rate times the client's count of that unit.  The cost comes off the client's invoice before the
split, as the split rules are percentages of *net* amounts: what the tools cost is not revenue
anyone earned.  So each line's split runs on the line's net less its part of the cost.

Two allocations, both by largest remainder (:func:`money.allocate_whole`), so every sum holds
to the cent:

- the cost deducted is at most the invoice's net (a month whose tools cost more than the
  client paid deducts the invoice's net, each tool in proportion to its cost);
- the deducted cost is spread over the invoice's lines in proportion to their net, so no line
  gives up more than its own net.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from thirdway.billing.engine.money import allocate_whole, cents

UNITS = ("monitored_device", "managed_device", "user", "client")
UNIT_NAMES = {
    "monitored_device": "monitored device",
    "managed_device": "managed device",
    "user": "user",
    "client": "client",
}


@dataclass(frozen=True)
class ToolCost:
    """A tool the practice pays for: its name, rate per unit per month and unit."""

    name: str
    rate: Decimal
    unit: str


@dataclass(frozen=True)
class ToolCharge:
    """One tool's cost for one client and month: ``count`` units at ``rate``; ``amount`` is what
    is deducted (``full`` or less when the invoice's net is smaller than the month's tools)."""

    name: str
    unit: str
    count: int
    rate: Decimal
    full: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Deduction:
    """The tools' charges for one invoice and each line's part of them (in the lines' order)."""

    charges: list[ToolCharge]
    per_line: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum((charge.amount for charge in self.charges), Decimal("0.00"))


def _checked(tool: ToolCost) -> None:
    if tool.unit not in UNITS:
        raise ValueError(f"Unknown unit {tool.unit!r}; allowed: {', '.join(UNITS)}")
    if tool.rate < 0:
        raise ValueError(f"The rate of {tool.name} is negative.")
    cents(tool.rate)  # refuses more than two decimals


def deduct(
    tools: Sequence[ToolCost], counts: Mapping[str, int], nets: Sequence[Decimal]
) -> Deduction:
    """The tools' charges for a client with ``counts`` per unit, and each line's part of them.

    ``nets`` are the invoice's line amounts (not negative).  The charges sum to
    ``min(full cost, sum of nets)``; the lines' parts sum to the same, and none exceeds its line.
    """
    for tool in tools:
        _checked(tool)
    if any(net < 0 for net in nets):
        raise ValueError("A line's net amount cannot be negative.")
    counted = [max(0, int(counts.get(tool.unit, 0))) for tool in tools]
    full = [tool.rate * count for tool, count in zip(tools, counted, strict=True)]
    whole = sum(full, Decimal(0))
    revenue = sum(nets, Decimal(0))
    taken = min(whole, revenue)
    if taken == whole:
        amounts = list(full)
    else:
        amounts = allocate_whole(taken, [cents(cost) for cost in full], cents(whole))
    charges = [
        ToolCharge(tool.name, tool.unit, count, tool.rate, cost.quantize(Decimal("0.01")), part)
        for tool, count, cost, part in zip(tools, counted, full, amounts, strict=True)
    ]
    if taken:
        per_line = allocate_whole(taken, [cents(net) for net in nets], cents(revenue))
    else:
        per_line = [Decimal("0.00") for _ in nets]
    return Deduction(charges=charges, per_line=per_line)
