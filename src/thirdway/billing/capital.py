"""Partners' capital accounts: their terms (the only writer of ``CapitalTerms``) and every
change of a balance, each a balanced transaction posted through ``ledger.py``.

A partner's capital account is the ledger account of kind *capital* held by the partner in the
practice; what the partner owns is its credit balance.  It changes by five transactions only:

- **buy-in paid**: cash debited, capital credited;
- **buy-in withheld**: when a share becomes payable, the agreed percentage of it (no more than
  what is left of the buy-in) moves from the partner's payable share to their capital;
- **pool allocated**: a month's retained pool (what the pool's payable account received that
  month) moves to the capital accounts by vested units;
- **capital returned**: part of the balance becomes payable to the partner, who stays;
- **buy-out**: the capital account is closed and the buy-out (balance plus vested units at the
  unit value) becomes payable to the partner, the units part taken from the retained pool.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.billing import ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine.capital import allocate_pool as split_pool
from thirdway.billing.engine.capital import buy_out as buy_out_formula
from thirdway.billing.engine.capital import vested_units
from thirdway.billing.engine.money import to_money
from thirdway.billing.models import (
    AccountKind,
    BuyInMethod,
    CapitalTerms,
    Holder,
    Invoice,
    Leg,
    PoolAllocation,
    TransactionKind,
)
from thirdway.billing.services import MANAGE, settings_of
from thirdway.errors import invalid, require

TERMS_FIELDS = [
    "buy_in",
    "buy_in_method",
    "withhold_percent",
    "units",
    "vesting_starts_on",
    "vesting_months",
]
PAID_IN = (TransactionKind.BUY_IN, TransactionKind.WITHHELD)


def _sum(legs) -> Decimal:
    return ledger.total(legs)


def _capital_legs(terms: CapitalTerms):
    return Leg.objects.filter(
        account__practice=terms.practice_id,
        account__kind=AccountKind.CAPITAL,
        account__holder=Holder.PARTNER,
        account__partner=terms.partner_id,
    )


def _pool_legs(practice):
    return Leg.objects.filter(
        account__practice=practice,
        account__kind=AccountKind.PAYABLE,
        account__holder=Holder.POOL,
    )


def balance(terms: CapitalTerms) -> Decimal:
    """What the partner owns in the practice: the capital account's credit balance."""
    return -_sum(_capital_legs(terms))


def buy_in_paid(terms: CapitalTerms) -> Decimal:
    """The buy-in paid so far: paid at once or withheld, less withholdings reversed."""
    legs = _capital_legs(terms).filter(
        Q(transaction__kind__in=PAID_IN) | Q(transaction__reverses__kind__in=PAID_IN)
    )
    return -_sum(legs)


def buy_in_left(terms: CapitalTerms) -> Decimal:
    return max(Decimal("0.00"), terms.buy_in - buy_in_paid(terms))


def retained_pool(practice) -> Decimal:
    """What the pool holds and has not allocated: its payable account's credit balance."""
    return -_sum(_pool_legs(practice))


def vested(terms: CapitalTerms, on: dt.date) -> Fraction:
    if terms.bought_out_id:
        return Fraction(0)
    return vested_units(terms.units, terms.vesting_starts_on, terms.vesting_months, on)


def units_held(practice) -> int:
    """All units of the practice's partners who are not bought out (the unit value's divisor)."""
    held = CapitalTerms.objects.filter(practice=practice, bought_out__isnull=True)
    return sum(held.values_list("units", flat=True))


def units_shown(units: Fraction) -> Decimal:
    """Vested units for reading, to two places (the allocation uses the exact fraction)."""
    return to_money(Decimal(units.numerator) / Decimal(units.denominator))


@dataclass(frozen=True)
class Summary:
    terms: CapitalTerms
    balance: Decimal
    buy_in_paid: Decimal
    buy_in_left: Decimal
    vested: Fraction
    currency: str

    @property
    def vested_shown(self) -> Decimal:
        return units_shown(self.vested)


def summary(terms: CapitalTerms, on: dt.date | None = None) -> Summary:
    on = on or timezone.localdate()
    paid = buy_in_paid(terms)
    return Summary(
        terms=terms,
        balance=balance(terms),
        buy_in_paid=paid,
        buy_in_left=max(Decimal("0.00"), terms.buy_in - paid),
        vested=vested(terms, on),
        currency=settings_of(terms.practice).currency,
    )


def entries(terms: CapitalTerms):
    """The capital account's legs, oldest first, each with its transaction."""
    return _capital_legs(terms).select_related("transaction").order_by("transaction__at", "pk")


# --- terms ---------------------------------------------------------------------------------------


def _check_terms(terms: CapitalTerms) -> None:
    """Every refused value at once, each named by its field with what is allowed."""
    refused: dict[str, ValidationError] = {}

    def refuse(field: str, message: str, allowed: str) -> None:
        refused[field] = invalid(field, message, allowed).error_dict[field][0]

    if terms.buy_in is not None and terms.buy_in < 0:
        refuse("buy_in", "The buy-in is negative.", "0 or more")
    if terms.units is not None and not 1 <= terms.units <= 1_000_000:
        refuse("units", f"{terms.units} units cannot be held.", "1 to 1000000 units")
    if terms.vesting_months is not None and not 0 <= terms.vesting_months <= 120:
        refuse("vesting_months", f"Vesting over {terms.vesting_months} months.", "0 to 120 months")
    percent = terms.withhold_percent
    if percent is not None and not 0 <= percent <= 100:
        refuse("withhold_percent", f"{percent} % cannot be withheld.", "0 to 100")
    elif terms.buy_in_method == BuyInMethod.WITHHELD and terms.buy_in and not percent:
        refuse(
            "withhold_percent",
            "A buy-in withheld from shares needs a percentage to withhold.",
            "above 0 to 100",
        )
    if refused:
        raise ValidationError(refused)
    terms.full_clean(exclude=["bought_out"])


@transaction.atomic
def set_terms(actor, *, practice, partner, source: str, **data) -> CapitalTerms:
    """Agree (or change) a partner's capital terms in a practice (practice admins)."""
    require(may_manage_billing(actor), MANAGE)
    if not partner.practices.filter(pk=practice.pk).exists():
        raise invalid(
            "partner", f"{partner} is not a partner of {practice}.", "a partner of the practice"
        )
    settings_of(practice)
    found = (
        CapitalTerms.objects.select_for_update().filter(practice=practice, partner=partner).first()
    )
    scope = f"partner:{partner.pk}"
    if found is None:
        terms = CapitalTerms(practice=practice, partner=partner, **data)
        _check_terms(terms)
        return create_and_record(
            actor,
            terms,
            fields=TERMS_FIELDS,
            action="billing.capital_terms",
            source=source,
            scope=scope,
        )
    if found.bought_out_id:
        raise invalid("partner", f"{partner} was bought out.", "a partner not bought out")
    for name, value in data.items():
        setattr(found, name, value)
    _check_terms(found)
    found.refresh_from_db()
    return update_and_record(
        actor,
        found,
        data,
        fields=TERMS_FIELDS,
        action="billing.capital_terms",
        source=source,
        scope=scope,
    )


def _account(terms: CapitalTerms):
    return ledger.account(
        terms.practice, AccountKind.CAPITAL, Holder.PARTNER, partner=terms.partner_id
    )


def _locked(terms: CapitalTerms) -> CapitalTerms:
    return (
        CapitalTerms.objects.select_for_update()
        .select_related("practice", "partner")
        .get(pk=terms.pk)
    )


# --- buy-in --------------------------------------------------------------------------------------


def _check_amount(terms: CapitalTerms, amount: Decimal, most: Decimal, done: str, of: str) -> None:
    """A capital movement of a partner not bought out: whole cents, 0.01 to ``most``."""
    if terms.bought_out_id:
        raise invalid("amount", f"{terms.partner} was bought out.", "a partner not bought out")
    if amount is None or amount <= 0 or amount != to_money(amount) or amount > most:
        raise invalid("amount", f"{amount} cannot be {done}.", f"0.01 to {most} ({of})")


@transaction.atomic
def record_buy_in(actor, terms: CapitalTerms, amount: Decimal, *, source: str):
    """The partner paid (part of) their buy-in: cash in, capital credited."""
    require(may_manage_billing(actor), MANAGE)
    terms = _locked(terms)
    left = buy_in_left(terms)
    _check_amount(terms, amount, left, "paid in", "what is left of the buy-in")
    practice = terms.practice
    posted = ledger.post(
        practice,
        TransactionKind.BUY_IN,
        f"Buy-in paid by {terms.partner}",
        [
            ledger.Entry(ledger.account(practice, AccountKind.CASH, Holder.PRACTICE), amount),
            ledger.Entry(_account(terms), -amount, "buy_in"),
        ],
        facts={"terms": terms.pk, "buy_in": str(terms.buy_in), "left_before": str(left)},
    )
    record(
        actor,
        "billing.capital_buy_in",
        terms,
        source=source,
        scope=f"partner:{terms.partner_id}",
        changes={"paid": [str(left), str(left - amount)]},
    )
    return posted


def withhold_from_shares(invoice: Invoice) -> list:
    """The client paid ``invoice``: from each share now payable to a partner whose buy-in is
    withheld, the agreed percentage moves to their capital, up to what is left of the buy-in
    (one transaction per partner; a credit note reverses it with the invoice's others)."""
    payable = Leg.objects.filter(
        transaction__invoice=invoice,
        transaction__kind=TransactionKind.PAYABLE,
        account__kind=AccountKind.PAYABLE,
        account__holder=Holder.PARTNER,
    ).values_list("account__partner", "amount")
    shares: dict[int, Decimal] = {}
    for partner_id, amount in payable:
        shares[partner_id] = shares.get(partner_id, Decimal(0)) - amount
    if not shares:
        return []
    practice = invoice.practice
    withholding = CapitalTerms.objects.select_for_update().filter(
        practice=practice,
        partner__in=shares,
        buy_in_method=BuyInMethod.WITHHELD,
        bought_out__isnull=True,
    )
    posted = []
    for terms in withholding.select_related("practice", "partner").order_by("pk"):
        share = shares[terms.partner_id]
        left = buy_in_left(terms)
        held = min(left, to_money(share * terms.withhold_percent / 100))
        if held <= 0:
            continue
        payable_account = ledger.account(
            practice, AccountKind.PAYABLE, Holder.PARTNER, partner=terms.partner_id
        )
        posted.append(
            ledger.post(
                practice,
                TransactionKind.WITHHELD,
                f"{invoice.number}: {terms.withhold_percent} % withheld for the buy-in",
                [
                    ledger.Entry(payable_account, held, "buy_in"),
                    ledger.Entry(_account(terms), -held, "buy_in"),
                ],
                invoice=invoice,
                facts={"terms": terms.pk, "share": str(share), "left_before": str(left)},
            )
        )
    return posted


@transaction.atomic
def return_capital(actor, terms: CapitalTerms, amount: Decimal, *, source: str):
    """Part of the partner's capital goes back to them: the capital account debited, their
    payable share credited (the account stays open, the units and their vesting unchanged)."""
    require(may_manage_billing(actor), MANAGE)
    terms = _locked(terms)
    held = balance(terms)
    _check_amount(terms, amount, held, "returned", "the capital balance")
    practice = terms.practice
    payable = ledger.account(
        practice, AccountKind.PAYABLE, Holder.PARTNER, partner=terms.partner_id
    )
    posted = ledger.post(
        practice,
        TransactionKind.RETURN,
        f"Capital returned to {terms.partner}",
        [
            ledger.Entry(_account(terms), amount, "capital"),
            ledger.Entry(payable, -amount, "capital_return"),
        ],
        facts={"terms": terms.pk, "balance_before": str(held)},
    )
    record(
        actor,
        "billing.capital_returned",
        terms,
        source=source,
        scope=f"partner:{terms.partner_id}",
        changes={"balance": [str(held), str(held - amount)]},
    )
    return posted


# --- the retained pool ---------------------------------------------------------------------------


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def pool_through(practice, last: dt.date) -> Decimal:
    """What the pool holds of what it received up to ``last`` (UTC days, as statements count
    them): its payable account's balance on that day, earlier allocations and buy-outs taken
    out.  A payment recorded late is thus allocated with the next month, never lost."""
    return -_sum(_pool_legs(practice).filter(transaction__at__date__lte=last))


def vested_in(practice, on: dt.date) -> list[tuple[CapitalTerms, Fraction]]:
    held = CapitalTerms.objects.filter(practice=practice, bought_out__isnull=True)
    return [(terms, vested(terms, on)) for terms in held.select_related("partner").order_by("pk")]


def _month_allowed(practice, month: dt.date) -> None:
    this_month = timezone.localdate().replace(day=1)
    latest = PoolAllocation.objects.filter(practice=practice).order_by("-month").first()
    if month > this_month:
        raise invalid("month", f"{month:%Y-%m} has not begun.", f"{this_month:%Y-%m} or before")
    if latest is not None and month < latest.month:
        raise invalid(
            "month",
            f"{latest.month:%Y-%m} is allocated already, and it held the pool up to then.",
            f"{latest.month:%Y-%m} (answered as it was) or a later month",
        )


def preview_allocation(practice, month: dt.date) -> tuple[Decimal, list]:
    """The pool to allocate for ``month`` and what each partner would get, by the units
    vested on its last day (or today, for the month under way); nothing is written."""
    _, last = month_bounds(month)
    last = min(last, timezone.localdate())
    amount = pool_through(practice, last)
    holders = [(terms, units) for terms, units in vested_in(practice, last) if units]
    if not amount or not holders:
        return amount, [(terms, units, Decimal("0.00")) for terms, units in holders]
    parts = dict(split_pool(amount, [(terms.pk, units) for terms, units in holders]))
    return amount, [(terms, units, parts[terms.pk]) for terms, units in holders]


@transaction.atomic
def allocate(actor, practice, month: dt.date, *, source: str) -> tuple[PoolAllocation, bool]:
    """Allocate the retained pool up to the end of ``month`` to the capital accounts by units
    vested then; once per practice and month (a second call answers the first allocation)."""
    require(may_manage_billing(actor), MANAGE)
    month = month.replace(day=1)
    settings_of(practice)
    existing = PoolAllocation.objects.filter(practice=practice, month=month).first()
    if existing is not None:
        return existing, False
    _month_allowed(practice, month)
    amount, parts = preview_allocation(practice, month)
    if amount and not parts:
        raise invalid(
            "month",
            f"No units were vested at the end of {month:%Y-%m} to allocate {amount} to.",
            "a month when some partner's units had vested",
        )
    claim, created = PoolAllocation.objects.get_or_create(
        practice=practice, month=month, defaults={"amount": amount, "made_by": actor}
    )
    if not created:
        return claim, False
    if amount:
        pool = ledger.account(practice, AccountKind.PAYABLE, Holder.POOL)
        legs = [ledger.Entry(pool, amount, "pool")]
        legs += [ledger.Entry(_account(terms), -part, "units") for terms, _, part in parts]
        claim.posted = ledger.post(
            practice,
            TransactionKind.ALLOCATION,
            f"Pool of {month:%Y-%m} allocated by vested units",
            legs,
            facts={
                "month": f"{month:%Y-%m}",
                "vested": {str(t.partner_id): str(units) for t, units, _ in parts},
            },
        )
        claim.save(update_fields=["posted"])
    record(
        actor,
        "billing.pool_allocated",
        claim,
        source=source,
        scope=f"practice:{practice.pk}",
        changes={"amount": [None, str(amount)], "month": [None, f"{month:%Y-%m}"]},
    )
    return claim, True


# --- buy-out -------------------------------------------------------------------------------------


def preview_buy_out(terms: CapitalTerms, on: dt.date | None = None):
    on = on or timezone.localdate()
    practice = terms.practice
    return buy_out_formula(
        balance(terms), vested(terms, on), retained_pool(practice), units_held(practice)
    )


@transaction.atomic
def record_buy_out(actor, terms: CapitalTerms, *, source: str):
    """The partner retires: their capital account is closed and the buy-out by the formula
    becomes payable to them, its units part taken from the retained pool."""
    require(may_manage_billing(actor), MANAGE)
    terms = _locked(terms)
    if terms.bought_out_id:
        raise invalid("partner", f"{terms.partner} was bought out already.", "once per partner")
    figures = preview_buy_out(terms)
    if figures.amount <= 0:
        raise invalid(
            "partner",
            f"{terms.partner} has nothing to be bought out ({figures.amount}).",
            "a capital balance or vested units worth more than 0",
        )
    practice = terms.practice
    legs = [
        ledger.Entry(_account(terms), figures.balance, "capital"),
        ledger.Entry(
            ledger.account(practice, AccountKind.PAYABLE, Holder.POOL), figures.units_part
        ),
        ledger.Entry(
            ledger.account(practice, AccountKind.PAYABLE, Holder.PARTNER, partner=terms.partner_id),
            -figures.amount,
            "buy_out",
        ),
    ]
    terms.bought_out = ledger.post(
        practice,
        TransactionKind.BUY_OUT,
        f"Buy-out of {terms.partner}",
        legs,
        facts={
            "balance": str(figures.balance),
            "vested": str(figures.vested),
            "pool": str(figures.pool),
            "total_units": figures.total_units,
            "units_part": str(figures.units_part),
        },
    )
    terms.save(update_fields=["bought_out", "updated_at"])
    record(
        actor,
        "billing.capital_buy_out",
        terms,
        source=source,
        scope=f"partner:{terms.partner_id}",
        changes={"bought_out": [None, str(figures.amount)]},
    )
    return terms
