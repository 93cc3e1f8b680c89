"""A buy-out paid in instalments: the schedule a practice admin agrees for a partner bought
out, and each instalment's payment, posted once through ``ledger.py`` (the only writer of
``BuyOutInstalment``).

The buy-out itself (``capital.record_buy_out``) makes the whole amount payable to the partner.
The schedule says when it is paid: 1 to 120 instalments, the first on or after the buy-out's
day, then every 1 to 12 months, their amounts adding up to the buy-out to the cent (equal
cents by the largest remainder unless agreed one by one).  Paying an instalment debits the
partner's payable share and credits cash; what is left payable of the buy-out is what is
outstanding.

An instalment is paid when a practice admin marks it paid, or, when the schedule is paid by
standing order, by the clock on its due day (``post_due_standing_orders``, hourly); either way
it is posted once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing import ledger
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine.capital import MOST_INSTALMENTS, due_dates, instalment_amounts
from thirdway.billing.models import (
    AccountKind,
    BuyOutInstalment,
    CapitalTerms,
    Holder,
    TransactionKind,
)
from thirdway.billing.services import MANAGE
from thirdway.errors import invalid, require

LONGEST_GAP = 12

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """A buy-out's instalments with what is paid and what is outstanding."""

    total: Decimal
    instalments: list[BuyOutInstalment]

    @property
    def paid(self) -> Decimal:
        return sum((i.amount for i in self.instalments if i.paid_id), Decimal("0.00"))

    @property
    def outstanding(self) -> Decimal:
        return sum((i.amount for i in self.instalments if not i.paid_id), Decimal("0.00"))

    @property
    def overdue(self) -> list[BuyOutInstalment]:
        today = timezone.localdate()
        return [i for i in self.instalments if not i.paid_id and i.due_on < today]


def buy_out_amount(terms: CapitalTerms) -> Decimal:
    """What the buy-out made payable to the partner (0 before it)."""
    if not terms.bought_out_id:
        return Decimal("0.00")
    legs = terms.bought_out.legs.filter(
        account__kind=AccountKind.PAYABLE, account__holder=Holder.PARTNER
    )
    return -ledger.total(legs)


def retired_on(terms: CapitalTerms) -> dt.date | None:
    """The day of the buy-out (the partner's retirement from the practice's capital)."""
    if not terms.bought_out_id:
        return None
    return timezone.localdate(terms.bought_out.at)


def schedule(terms: CapitalTerms) -> Schedule | None:
    """The buy-out's schedule, or None when none was agreed."""
    found = list(terms.instalments.select_related("paid").order_by("number"))
    if not found:
        return None
    return Schedule(total=sum((i.amount for i in found), Decimal("0.00")), instalments=found)


def _amounts(total: Decimal, count: int, amounts: Sequence[Decimal] | None) -> list[Decimal]:
    if not amounts:
        if total * 100 < count:
            raise invalid(
                "instalments",
                f"{total} cannot be paid in {count} instalments of a cent or more.",
                f"1 to {min(MOST_INSTALMENTS, int(total * 100))} instalments",
            )
        return instalment_amounts(total, count)
    allowed = f"{count} amounts of 0.01 or more, in cents, adding up to {total} (the buy-out)"
    if len(amounts) != count:
        raise invalid("amounts", f"{len(amounts)} amounts for {count} instalments.", allowed)
    if any(a is None or a <= 0 or a != a.quantize(Decimal("0.01")) for a in amounts):
        raise invalid("amounts", "Every instalment is a positive number of cents.", allowed)
    if sum(amounts, Decimal(0)) != total:
        raise invalid("amounts", f"The amounts add up to {sum(amounts)}, not {total}.", allowed)
    return list(amounts)


def _check(terms: CapitalTerms, count, first_due_on, every_months) -> None:
    if count is None or not 1 <= count <= MOST_INSTALMENTS:
        raise invalid("instalments", f"{count} instalments.", "1 to 120 instalments")
    if every_months is None or not 1 <= every_months <= LONGEST_GAP:
        raise invalid("every_months", f"Every {every_months} months.", "1 to 12 months")
    retired = retired_on(terms)
    latest = retired + dt.timedelta(days=366) if retired else None
    if first_due_on is None or retired is None or not retired <= first_due_on <= latest:
        raise invalid(
            "first_due_on",
            f"The first instalment cannot be due on {first_due_on}.",
            f"{retired} (the buy-out) to {latest}",
        )


@transaction.atomic
def agree(
    actor,
    terms: CapitalTerms,
    *,
    count: int,
    first_due_on: dt.date,
    every_months: int = 1,
    amounts: Sequence[Decimal] | None = None,
    standing_order: bool = False,
    source: str,
) -> Schedule:
    """Agree how a partner bought out is paid: ``count`` instalments from ``first_due_on``,
    every ``every_months`` months; once per buy-out (practice admins).  ``standing_order``:
    each instalment is posted paid on its due day by the clock."""
    require(may_manage_billing(actor), MANAGE)
    terms = (
        CapitalTerms.objects.select_for_update(of=("self",))
        .select_related("partner", "practice", "bought_out")
        .get(pk=terms.pk)
    )
    if not terms.bought_out_id:
        raise invalid("partner", f"{terms.partner} is not bought out yet.", "a partner bought out")
    if terms.instalments.exists():
        raise invalid(
            "instalments", "The buy-out's instalments are agreed already.", "once per buy-out"
        )
    _check(terms, count, first_due_on, every_months)
    total = buy_out_amount(terms)
    parts = _amounts(total, count, amounts)
    days = due_dates(first_due_on, count, every_months)
    made = BuyOutInstalment.objects.bulk_create(
        BuyOutInstalment(terms=terms, number=n, due_on=day, amount=part, agreed_by=actor)
        for n, (day, part) in enumerate(zip(days, parts, strict=True), start=1)
    )
    changes: dict = {"instalments": [None, count], "first_due_on": [None, str(first_due_on)]}
    if standing_order:
        terms.instalments_by_standing_order = True
        terms.save(update_fields=["instalments_by_standing_order", "updated_at"])
        changes["standing_order"] = [False, True]
    record(
        actor,
        "billing.buy_out_instalments",
        terms,
        source=source,
        scope=f"partner:{terms.partner_id}",
        changes=changes,
    )
    return Schedule(total=total, instalments=made)


def _post_payment(instalment: BuyOutInstalment):
    """The instalment's payment in the ledger: the partner's payable share debited, cash out."""
    terms = instalment.terms
    practice = terms.practice
    of = terms.instalments.count()
    payable = ledger.account(
        practice, AccountKind.PAYABLE, Holder.PARTNER, partner=terms.partner_id
    )
    cash = ledger.account(practice, AccountKind.CASH, Holder.PRACTICE)
    return ledger.post(
        practice,
        TransactionKind.INSTALMENT,
        f"Buy-out of {terms.partner}: instalment {instalment.number} of {of} paid",
        [
            ledger.Entry(payable, instalment.amount, "buy_out"),
            ledger.Entry(cash, -instalment.amount),
        ],
        facts={
            "terms": terms.pk,
            "number": instalment.number,
            "of": of,
            "due_on": str(instalment.due_on),
        },
    )


@transaction.atomic
def pay(actor, instalment: BuyOutInstalment, *, source: str) -> tuple[BuyOutInstalment, bool]:
    """Record that an instalment was paid: cash out, the partner's payable share debited.
    Once: marking it paid again answers the payment made before (``False``)."""
    require(may_manage_billing(actor), MANAGE)
    return _pay(actor, instalment, source=source)


def _pay(actor, instalment: BuyOutInstalment, *, source: str) -> tuple[BuyOutInstalment, bool]:
    instalment = (
        BuyOutInstalment.objects.select_for_update(of=("self",))
        .select_related("terms__practice", "terms__partner")
        .get(pk=instalment.pk)
    )
    if instalment.paid_id:
        return instalment, False
    instalment.paid = _post_payment(instalment)
    terms = instalment.terms
    instalment.save(update_fields=["paid"])
    record(
        actor,
        "billing.buy_out_instalment_paid",
        terms,
        source=source,
        scope=f"partner:{terms.partner_id}",
        changes={f"instalment {instalment.number}": [None, str(instalment.amount)]},
    )
    return instalment, True


@transaction.atomic
def set_standing_order(actor, terms: CapitalTerms, *, on: bool, source: str) -> CapitalTerms:
    """Start or stop paying the buy-out's instalments by standing order (practice admins).
    Stopping it leaves the instalments posted so far as they are."""
    require(may_manage_billing(actor), MANAGE)
    terms = CapitalTerms.objects.select_for_update(of=("self",)).get(pk=terms.pk)
    if not terms.instalments.exists():
        raise invalid(
            "standing_order",
            "No instalments are agreed for this buy-out.",
            "a buy-out paid in instalments",
        )
    if terms.instalments_by_standing_order != on:
        record(
            actor,
            "billing.buy_out_standing_order",
            terms,
            source=source,
            scope=f"partner:{terms.partner_id}",
            changes={"standing_order": [not on, on]},
        )
        terms.instalments_by_standing_order = on
        terms.save(update_fields=["instalments_by_standing_order", "updated_at"])
    return terms


def post_due_standing_orders(today: dt.date | None = None, *, source: str) -> dict[str, int]:
    """The clock's job: post every instalment paid by standing order whose due day has come,
    each in its own transaction, once (a second run, or a payment marked by hand meanwhile,
    posts nothing); one failure never stops the rest."""
    today = today or timezone.localdate()
    due = BuyOutInstalment.objects.filter(
        terms__instalments_by_standing_order=True, paid__isnull=True, due_on__lte=today
    )
    posted = failed = 0
    for instalment in due.order_by("due_on", "pk").iterator():
        try:
            with transaction.atomic():
                # the switch is read again under the row's lock: stopped meanwhile, not posted
                still_on = list(
                    CapitalTerms.objects.select_for_update()
                    .filter(pk=instalment.terms_id, instalments_by_standing_order=True)
                    .values_list("pk", flat=True)
                )
                made = _pay(None, instalment, source=source)[1] if still_on else False
        except Exception:  # one bad row never stops the job
            log.exception("The standing order of buy-out instalment %s failed", instalment.pk)
            failed += 1
            continue
        posted += made
    return {"posted": posted, "failed": failed}
