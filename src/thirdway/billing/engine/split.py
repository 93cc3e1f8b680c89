"""The rules of a practice and the split of one invoice line's net amount into shares.

The rules are percentages of the net amount that add up to 100:

- ``origination``: to the partner who brought the client; with ``fade_years`` it shrinks in
  equal steps each whole year since the client came, and what it loses goes to delivery;
- ``delivery``: to the partners who did the work, by their time or their resolved tickets;
- ``pool``: to the practice's pool;
- ``network``: the network's overhead;
- ``desk_fee``: to the desk, in proportion to the line's tickets the desk resolved (the rest of
  it goes to delivery);
- ``referral``: to the partner who referred the client (to origination when nobody did).

A share that has nobody to receive it (no originator, no time or tickets behind the line) goes
to the practice's pool.  The split sums to the line to the cent (:func:`money.allocate`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from thirdway.billing.engine.money import allocate_whole

RULES = ("origination", "delivery", "pool", "network", "desk_fee", "referral")
DELIVERY_BASES = ("time", "tickets")
HUNDRED = Decimal(100)


class RulesRefused(ValueError):
    """Rules that cannot split anything; ``rule`` names the rule (a field of the rules)."""

    def __init__(self, rule: str, message: str, allowed: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.allowed = allowed


@dataclass(frozen=True, order=True)
class Recipient:
    """Who receives a share: a partner (``key`` is their id), the pool, the network or the desk."""

    kind: str
    key: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}" if self.key else self.kind


POOL = Recipient("pool")
NETWORK = Recipient("network")
DESK = Recipient("desk")


@dataclass(frozen=True)
class SplitRules:
    """A practice's split, in percent of the net amount of each line."""

    name: str
    origination: Decimal = Decimal(0)
    delivery: Decimal = Decimal(100)
    pool: Decimal = Decimal(0)
    network: Decimal = Decimal(0)
    desk_fee: Decimal = Decimal(0)
    referral: Decimal = Decimal(0)
    fade_years: int = 0
    delivery_basis: str = "time"

    def percentages(self) -> dict[str, Decimal]:
        return {rule: getattr(self, rule) for rule in RULES}

    def check(self) -> None:
        """Refuse rules that do not add up to 100 %, naming the rule at fault."""
        for rule, value in self.percentages().items():
            if not Decimal(0) <= value <= HUNDRED:
                raise RulesRefused(
                    rule, f"The {rule} rule of {self.name} is {value} %.", "0 to 100 %"
                )
            if value * 100 != int(value * 100):
                raise RulesRefused(
                    rule,
                    f"The {rule} rule of {self.name} has more than two decimals.",
                    "a percentage with at most two decimals",
                )
        if self.fade_years < 0:
            raise RulesRefused("fade_years", "Fading years cannot be negative.", "0 or more")
        if self.delivery_basis not in DELIVERY_BASES:
            raise RulesRefused(
                "delivery_basis",
                f"Unknown delivery basis {self.delivery_basis!r}.",
                ", ".join(DELIVERY_BASES),
            )
        total = sum(self.percentages().values(), Decimal(0))
        if total != HUNDRED:
            terms = " + ".join(f"{rule} {value}" for rule, value in self.percentages().items())
            raise RulesRefused(
                "delivery",
                f"The rules of {self.name} add up to {total} %, not 100 % ({terms}).",
                "percentages that add up to exactly 100",
            )


@dataclass(frozen=True)
class LineFacts:
    """What is known of one invoice line: its net amount and the people behind it.

    ``delivery`` maps a partner's key to their minutes or resolved tickets (by the rules'
    basis); ``desk_resolved`` of the line's ``tickets_resolved`` were resolved by the desk.
    """

    net: Decimal
    originator: str | None = None
    years_since_origination: int = 0
    referrer: str | None = None
    delivery: Mapping[str, int] = field(default_factory=dict)
    tickets_resolved: int = 0
    desk_resolved: int = 0


@dataclass(frozen=True)
class Share:
    """One recipient's part of a line under one rule."""

    rule: str
    recipient: Recipient
    amount: Decimal


@functools.lru_cache(maxsize=64)
def _checked(rules: SplitRules) -> dict[str, int]:
    """The rules checked, as hundredths of a percent per rule (once per set of rules)."""
    rules.check()
    return {rule: int(value * 100) for rule, value in rules.percentages().items()}


def _weights(rules: SplitRules, facts: LineFacts) -> tuple[dict[tuple[str, Recipient], int], int]:
    """The exact weight of each (rule, recipient) as whole numerators over one denominator.

    The denominator is 10,000 (hundredths of a percent) times the fading years, the tickets
    resolved and the minutes or tickets delivered (each at least 1), so every step below divides
    exactly and the numerators sum to the denominator.
    """
    percent = _checked(rules)
    fade = rules.fade_years or 1
    tickets = facts.tickets_resolved if facts.tickets_resolved > 0 else 1
    worked = {key: amount for key, amount in facts.delivery.items() if amount > 0}
    total = sum(worked.values()) or 1
    unit = fade * tickets * total
    parts: dict[tuple[str, Recipient], int] = {}

    def give(rule: str, recipient: Recipient, weight: int) -> None:
        if weight:
            parts[(rule, recipient)] = parts.get((rule, recipient), 0) + weight

    origination = percent["origination"] * unit
    kept = origination
    if rules.fade_years:
        left = max(0, fade - facts.years_since_origination)
        kept = percent["origination"] * left * tickets * total
    faded = origination - kept
    referral = percent["referral"] * unit
    if facts.referrer is not None:
        give("referral", Recipient("partner", facts.referrer), referral)
    else:
        kept += referral
    originator = Recipient("partner", facts.originator) if facts.originator else POOL
    give("origination", originator, kept)
    desk = 0
    if facts.tickets_resolved > 0:
        resolved = min(max(facts.desk_resolved, 0), facts.tickets_resolved)
        desk = percent["desk_fee"] * resolved * fade * total
    give("desk_fee", DESK, desk)
    delivery = (percent["delivery"] + percent["desk_fee"]) * unit + faded - desk
    if worked:
        each = delivery // total  # exact: every term above carries the factor ``total``
        for key in sorted(worked):
            give("delivery", Recipient("partner", key), each * worked[key])
    else:
        give("delivery", POOL, delivery)
    give("pool", POOL, percent["pool"] * unit)
    give("network", NETWORK, percent["network"] * unit)
    return parts, 10_000 * unit


def split_line(rules: SplitRules, facts: LineFacts) -> list[Share]:
    """The shares of one line, in the order of the rules, then of the recipients.

    Refuses rules that do not add up (:class:`RulesRefused`) and an amount with more than two
    decimal places (``ValueError``).  Shares of zero are left out.
    """
    weights, denominator = _weights(rules, facts)
    ordered = sorted(weights.items(), key=lambda item: (RULES.index(item[0][0]), item[0][1]))
    amounts = allocate_whole(facts.net, [weight for _, weight in ordered], denominator)
    return [
        Share(rule, recipient, amount)
        for ((rule, recipient), _), amount in zip(ordered, amounts, strict=True)
        if amount
    ]
