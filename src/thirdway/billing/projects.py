"""Fixed-fee projects: the plan of milestones that bills the price, marking a milestone done,
and the budget against the time logged (tracked, never billed).

A project's milestones add up to its price to the cent (a percent is of the price, rounded
half up).  A milestone marked done is billed by the next invoice run, once (``proposals``
claims it as ``milestone:<id>``); a done milestone no longer changes, and is un-marked only
while no invoice line claims it.  The run and the un-mark both lock the milestone's row, so
they never cross.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing.access import may_manage_billing
from thirdway.billing.engine import to_money
from thirdway.billing.models import (
    Contract,
    ContractKind,
    InvoiceLine,
    InvoiceState,
    Milestone,
    TimeEntry,
)
from thirdway.errors import invalid, require

MOST_MILESTONES = 50
NAME_LENGTH = 150
EDIT = "Only a practice admin may plan a project's milestones."
MARK = "Only a practice admin or the client's lead partner marks a milestone done."
UNMARK = "Only a practice admin or the client's lead partner un-marks a milestone."


def check_price(contract: Contract) -> None:
    """A project has a price, and once planned its milestones add up to it."""
    if contract.fixed_price <= 0:
        raise invalid("fixed_price", "A fixed-fee project needs its price.", "above 0")
    if contract.pk is None:
        return
    planned = list(Milestone.objects.filter(contract_id=contract.pk))
    total = sum((m.value_of(contract.fixed_price) for m in planned), Decimal(0))
    if planned and total != contract.fixed_price:
        raise invalid(
            "fixed_price",
            f"The milestones add up to {total}.",
            f"{total}, or change the milestones first",
        )


# --- the plan ----------------------------------------------------------------------------------


def _require_project(contract: Contract) -> None:
    if contract.kind != ContractKind.PROJECT:
        raise invalid(
            "kind",
            f"A {contract.get_kind_display().lower()} contract has no milestones.",
            "a fixed-fee project",
        )


def _amounts(item: dict, n: int) -> tuple[Decimal | None, Decimal | None]:
    amount, percent = item.get("amount"), item.get("percent")
    if (amount is None) == (percent is None):
        raise invalid(
            "amount", f"Milestone {n} needs an amount or a percent.", "one of the two, not both"
        )
    if amount is not None and (amount < 0 or amount != to_money(amount)):
        raise invalid("amount", f"Milestone {n}: the amount is not allowed.", "0 or more, cents")
    if percent is not None and not (0 < percent <= 100 and percent == to_money(percent)):
        raise invalid(
            "percent", f"Milestone {n}: the percent is not allowed.", "above 0 to 100, 2 places"
        )
    return amount, percent


def _clean(contract: Contract, item: dict, n: int) -> dict:
    name = str(item.get("name") or "").strip()
    if not 1 <= len(name) <= NAME_LENGTH:
        raise invalid("name", f"Milestone {n} needs a name.", f"1 to {NAME_LENGTH} characters")
    amount, percent = _amounts(item, n)
    due_on = item.get("due_on")
    if not isinstance(due_on, dt.date):
        raise invalid("due_on", f"Milestone {n} needs its due date.", "a date YYYY-MM-DD")
    if due_on < contract.starts_on or (contract.ends_on and due_on > contract.ends_on):
        raise invalid(
            "due_on",
            f"Milestone {n} is due outside the project's dates.",
            f"a day from {contract.starts_on} to {contract.ends_on or 'any later day'}",
        )
    return {"name": name, "amount": amount, "percent": percent, "due_on": due_on}


def _check_total(contract: Contract, plan: list[Milestone]) -> None:
    total = sum((m.value_of(contract.fixed_price) for m in plan), Decimal(0))
    if total != contract.fixed_price:
        raise invalid(
            "amount",
            f"The milestones add up to {total}, not the price {contract.fixed_price}.",
            f"amounts (and percents of the price) adding up to {contract.fixed_price}",
        )


def _keep_done(done: Milestone, wanted: dict | None) -> None:
    """A done milestone stays as it is: same name, amount and percent."""
    same = wanted is not None and all(
        getattr(done, name) == wanted[name] for name in ("name", "amount", "percent")
    )
    if not same:
        raise invalid(
            "milestones",
            f"{done.name} is done; it no longer changes.",
            f"the plan with {done.name} as it is",
        )


@transaction.atomic
def set_milestones(actor, contract: Contract, items: list[dict], *, source: str):
    """Replace the project's plan: items with an ``id`` change that milestone, items without
    one are new, milestones left out are removed.  Refused whole (naming the field) unless the
    milestones add up to the price; a done milestone neither changes nor goes."""
    require(may_manage_billing(actor), EDIT)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    _require_project(contract)
    if not contract.lines.exists():
        raise invalid(
            "lines",
            "The project has no line yet: its VAT taxes the milestones.",
            "add the project's hourly line first",
        )
    if not 1 <= len(items) <= MOST_MILESTONES:
        raise invalid("milestones", "The plan needs its milestones.", f"1 to {MOST_MILESTONES}")
    existing = {m.pk: m for m in contract.milestones.all()}
    plan, wanted_by_id = [], {}
    for n, item in enumerate(items, start=1):
        clean = _clean(contract, item, n)
        pk = item.get("id")
        if pk is not None and pk not in existing:
            raise invalid("id", f"Milestone {n} is not one of this project's.", "an id it has")
        milestone = existing.get(pk) or Milestone(contract=contract)
        if pk is not None:
            wanted_by_id[pk] = clean
        if milestone.done_at is None:
            for name, value in clean.items():
                setattr(milestone, name, value)
        milestone.position = n
        plan.append(milestone)
    for done in (m for m in existing.values() if m.done_at is not None):
        _keep_done(done, wanted_by_id.get(done.pk))
    _check_total(contract, plan)
    before = [(m.name, str(m.value)) for m in existing.values()]
    kept = {m.pk for m in plan if m.pk}
    Milestone.objects.filter(pk__in=set(existing) - kept).delete()
    for milestone in plan:
        milestone.save()
    after = [(m.name, str(m.value_of(contract.fixed_price))) for m in plan]
    record(
        actor,
        "project.milestones",
        contract,
        source=source,
        scope=f"client:{contract.client_id}",
        changes={"milestones": [before, after]},
    )
    return plan


def may_mark_done(user, contract: Contract) -> bool:
    """A practice admin, or the lead partner of the project's client."""
    if may_manage_billing(user):
        return True
    partner = getattr(user, "partner", None)
    return partner is not None and contract.client.lead_partner_id == partner.pk


@transaction.atomic
def mark_done(actor, milestone: Milestone, *, source: str) -> Milestone:
    """The milestone is done: the next invoice run bills it.  Marking it twice is refused."""
    locked = Milestone.objects.select_for_update().select_related("contract__client")
    milestone = locked.get(pk=milestone.pk)
    require(may_mark_done(actor, milestone.contract), MARK)
    if milestone.done_at is not None:
        raise invalid(
            "done_at",
            f"{milestone.name} was marked done on {timezone.localdate(milestone.done_at)}.",
            "a milestone not done yet",
        )
    milestone.done_at, milestone.done_by = timezone.now(), actor
    milestone.save(update_fields=["done_at", "done_by"])
    record(
        actor,
        "project.milestone_done",
        milestone.contract,
        source=source,
        scope=f"client:{milestone.contract.client_id}",
        changes={milestone.name: [None, "done"]},
    )
    return milestone


def _billed_why(milestone: Milestone, line: InvoiceLine) -> str:
    """Why a billed milestone stays done: what holds its line, and the way back."""
    invoice = line.invoice
    if invoice.state == InvoiceState.DRAFT:
        return (
            f"{milestone.name} is on the draft invoice of {invoice.month:%Y-%m}: "
            "take its line off the draft first."
        )
    return (
        f"{milestone.name} was billed on invoice {invoice.number}, so it stays done: "
        "a credit note gives the money back."
    )


@transaction.atomic
def unmark_done(actor, milestone: Milestone, *, source: str) -> Milestone:
    """Take back a milestone marked done by mistake, while no invoice line bills it: the next
    run no longer bills it.  Once billed it stays done (a credit note gives the money back)."""
    locked = Milestone.objects.select_for_update().select_related("contract__client")
    milestone = locked.get(pk=milestone.pk)
    require(may_mark_done(actor, milestone.contract), UNMARK)
    if milestone.done_at is None:
        raise invalid("done_at", f"{milestone.name} is not marked done.", "a milestone done")
    line = InvoiceLine.objects.filter(claim=milestone.claim).select_related("invoice").first()
    if line is not None:
        raise invalid(
            "done_at", _billed_why(milestone, line), "a milestone done and not invoiced yet"
        )
    done_on = timezone.localdate(milestone.done_at)
    milestone.done_at, milestone.done_by = None, None
    milestone.save(update_fields=["done_at", "done_by"])
    record(
        actor,
        "project.milestone_undone",
        milestone.contract,
        source=source,
        scope=f"client:{milestone.contract.client_id}",
        changes={milestone.name: [f"done {done_on}", None]},
    )
    return milestone


def lock_billed_milestones(claims: list[str]) -> set[str]:
    """Lock the milestones an invoice run is about to bill (their ``milestone:<id>`` claims),
    in id order, and answer the claims still marked done.  The un-mark locks the same row, so
    the two take turns: a run that read a milestone as done before it was un-marked finds it
    planned here and leaves it, and an un-mark waiting on the run sees the line it made."""
    ids = sorted({int(claim.removeprefix("milestone:")) for claim in claims})
    if not ids:
        return set()
    locked = Milestone.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {f"milestone:{pk}" for pk, done_at in locked.values_list("pk", "done_at") if done_at}


# --- budget against the time logged ------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneState:
    milestone: Milestone
    value: Decimal
    invoice_line: InvoiceLine | None

    @property
    def state(self) -> str:
        if self.invoice_line is not None:
            return "billed"
        return "done" if self.milestone.done_at else "planned"


@dataclass(frozen=True)
class Progress:
    """A project's price, billed so far, budget and the time logged on it."""

    price: Decimal
    billed: Decimal
    budget_minutes: int
    worked_minutes: int
    milestones: list[MilestoneState]

    @property
    def budget_hours(self) -> Decimal:
        return to_money(Decimal(self.budget_minutes) / 60)

    @property
    def worked_hours(self) -> Decimal:
        return to_money(Decimal(self.worked_minutes) / 60)

    @property
    def used_percent(self) -> int | None:
        if not self.budget_minutes:
            return None
        return round(self.worked_minutes * 100 / self.budget_minutes)

    @property
    def effective_rate(self) -> Decimal | None:
        """The price per hour worked (None before any time is logged)."""
        if self.worked_minutes <= 0:
            return None
        return to_money(self.price * 60 / self.worked_minutes)

    @property
    def budget_rate(self) -> Decimal | None:
        if not self.budget_minutes:
            return None
        return to_money(self.price * 60 / self.budget_minutes)


def progress(contract: Contract) -> Progress:
    """Budget against actual of a project: the worked minutes of all its time (reversals
    included, so corrections count once), and each milestone with the line that billed it."""
    milestones = list(contract.milestones.all())
    claims = {m.claim: m for m in milestones}
    lines = InvoiceLine.objects.filter(claim__in=list(claims)).select_related("invoice")
    billed_by = {line.claim: line for line in lines}
    worked = TimeEntry.objects.filter(contract_line__contract=contract).aggregate(
        total=Sum("worked_minutes")
    )["total"]
    states = [
        MilestoneState(m, m.value_of(contract.fixed_price), billed_by.get(m.claim))
        for m in milestones
    ]
    return Progress(
        price=contract.fixed_price,
        billed=sum((s.invoice_line.net for s in states if s.invoice_line), Decimal("0.00")),
        budget_minutes=contract.budget_minutes,
        worked_minutes=worked or 0,
        milestones=states,
    )
