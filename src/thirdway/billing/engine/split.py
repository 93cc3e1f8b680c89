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

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from thirdway.billing.engine.money import allocate, cents

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


def _percent(value: Decimal) -> Fraction:
    return Fraction(value) / 100


def _origination(rules: SplitRules, facts: LineFacts) -> tuple[Fraction, Fraction]:
    """(kept by the originator, faded out to delivery)."""
    weight = _percent(rules.origination)
    if not rules.fade_years:
        return weight, Fraction(0)
    left = max(Fraction(0), 1 - Fraction(facts.years_since_origination, rules.fade_years))
    return weight * left, weight * (1 - left)


def _desk(rules: SplitRules, facts: LineFacts) -> Fraction:
    if facts.tickets_resolved <= 0:
        return Fraction(0)
    resolved = min(max(facts.desk_resolved, 0), facts.tickets_resolved)
    return _percent(rules.desk_fee) * Fraction(resolved, facts.tickets_resolved)


def _weights(rules: SplitRules, facts: LineFacts) -> dict[tuple[str, Recipient], Fraction]:
    """The exact weight of each (rule, recipient); they sum to 1."""
    parts: dict[tuple[str, Recipient], Fraction] = {}

    def give(rule: str, recipient: Recipient, weight: Fraction) -> None:
        if weight:
            parts[(rule, recipient)] = parts.get((rule, recipient), Fraction(0)) + weight

    kept, faded = _origination(rules, facts)
    referral = _percent(rules.referral)
    if facts.referrer is not None:
        give("referral", Recipient("partner", facts.referrer), referral)
    else:
        kept += referral
    originator = Recipient("partner", facts.originator) if facts.originator else POOL
    give("origination", originator, kept)
    desk = _desk(rules, facts)
    give("desk_fee", DESK, desk)
    delivery = _percent(rules.delivery) + faded + _percent(rules.desk_fee) - desk
    worked = {key: amount for key, amount in facts.delivery.items() if amount > 0}
    total = sum(worked.values())
    if total:
        for key in sorted(worked):
            give("delivery", Recipient("partner", key), delivery * Fraction(worked[key], total))
    else:
        give("delivery", POOL, delivery)
    give("pool", POOL, _percent(rules.pool))
    give("network", NETWORK, _percent(rules.network))
    return parts


def split_line(rules: SplitRules, facts: LineFacts) -> list[Share]:
    """The shares of one line, in the order of the rules, then of the recipients.

    Refuses rules that do not add up (:class:`RulesRefused`) and an amount with more than two
    decimal places (``ValueError``).  Shares of zero are left out.
    """
    rules.check()
    cents(facts.net)
    weights = _weights(rules, facts)
    ordered = sorted(weights.items(), key=lambda item: (RULES.index(item[0][0]), item[0][1]))
    return [
        Share(rule, recipient, amount)
        for (rule, recipient), amount in allocate(facts.net, ordered)
        if amount
    ]
