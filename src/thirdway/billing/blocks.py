"""Block hours: what a block-hours contract bought, used and has left, the warning once a share
of it is used (once per block: a top-up makes a new block), and top-ups.

Used minutes are the billable minutes booked on the contract's lines, whatever their week's
state, reversals included: the warning should come before the time is approved and billed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from thirdway.accounts.models import Role
from thirdway.audit.services import record
from thirdway.billing import after_hours
from thirdway.billing.access import may_manage_billing
from thirdway.billing.models import (
    BillingStatus,
    BlockNotice,
    BlockTopUp,
    Contract,
    ContractKind,
    TimeEntry,
)
from thirdway.errors import invalid, require
from thirdway.tickets.notifications.services import send_letter

TOP_UP_MOST = 100_000 * 60  # minutes
NOTE_LENGTH = 200


@dataclass(frozen=True)
class Burn:
    """A block's burn-down, in minutes.  ``used`` includes ``after_hours_extra``: what time
    after hours burns beyond its minutes at ``multipliers`` (each line's, else the practice's,
    above 1)."""

    contract: Contract
    bought: int
    used: int
    after_hours_extra: int = 0
    multipliers: tuple[Decimal, ...] = ()

    @property
    def after_hours_extra_hours(self) -> Decimal:
        return self.hours(self.after_hours_extra)

    @property
    def after_hours_text(self) -> str:
        """What the burn-down says of time after hours: the multiplier, and its share of the
        hours used ('' when none applies)."""
        if not self.multipliers:
            return ""
        shown = " or ".join(after_hours.describe(m) for m in self.multipliers)
        first = after_hours.describe(self.multipliers[0]).lstrip("×")
        text = f"Time after hours burns the block at {shown} (1 h at night uses {first} h)"
        if len(self.multipliers) > 1:
            text = f"Time after hours burns the block at {shown}, by line"
        if self.after_hours_extra:
            text += f"; {self.after_hours_extra_hours} h of the hours used come from it"
        return text + "."

    @property
    def left(self) -> int:
        return self.bought - self.used

    @property
    def percent_used(self) -> int:
        if self.bought <= 0:
            return 0
        return min(100, max(0, self.used * 100 // self.bought))

    @property
    def warning(self) -> bool:
        return self.bought > 0 and self.used * 100 >= self.bought * self.contract.warn_at_percent

    @staticmethod
    def hours(minutes: int) -> Decimal:
        return (Decimal(minutes) / 60).quantize(Decimal("0.01"))

    @property
    def bought_hours(self) -> Decimal:
        return self.hours(self.bought)

    @property
    def used_hours(self) -> Decimal:
        return self.hours(self.used)

    @property
    def left_hours(self) -> Decimal:
        return self.hours(self.left)


def bought_minutes(contract: Contract) -> int:
    added = contract.top_ups.aggregate(total=Sum("minutes"))["total"] or 0
    return contract.block_minutes + added


def _billable(contract: Contract):
    return TimeEntry.objects.filter(
        contract_line__contract=contract, billing_status=BillingStatus.BILLABLE
    )


def used_minutes(contract: Contract) -> int:
    """The billable minutes booked on the block (after-hours time not counted more)."""
    used = _billable(contract).aggregate(total=Sum("billable_minutes"))["total"]
    return used or 0


def _multipliers(contract: Contract, practice_multiplier: Decimal) -> tuple[Decimal, ...]:
    found = {
        after_hours.multiplier_of(contract, line, practice_multiplier)
        for line in contract.lines.all()
    }
    return tuple(sorted(m for m in found if m > after_hours.NO_SURCHARGE))


def burn(contract: Contract) -> Burn:
    """The block's burn-down: its billable minutes, and time after hours once more at the
    multiplier less one (1 h at night at 1.5 burns 1.5 h)."""
    practice_multiplier = after_hours.practice_multiplier_of(contract.practice_id)
    multipliers = _multipliers(contract, practice_multiplier)
    extra = 0
    if multipliers:
        timed = _billable(contract).filter(start_time__isnull=False)
        timed = timed.select_related("contract_line", "partner")
        extra = sum(after_hours.block_extra(contract, timed, practice_multiplier).values())
    used = used_minutes(contract) + extra
    return Burn(contract, bought_minutes(contract), used, extra, multipliers)


def burns_of(client) -> list[Burn]:
    """The burn-down of each block-hours contract of a client, newest first."""
    contracts = Contract.objects.filter(client=client, kind=ContractKind.BLOCK_HOURS)
    return [burn(contract) for contract in contracts.order_by("-starts_on", "-pk")]


def _recipients(contract: Contract) -> list:
    from thirdway.accounts.models import User

    people = []
    lead = contract.client.lead_partner
    if lead is not None and lead.user_id is not None and lead.user.is_active:
        people.append(lead.user)
    admins = User.objects.filter(
        role=Role.CLIENT_ADMIN,
        is_active=True,
        contact__client=contract.client_id,
        contact__is_active=True,
    ).order_by("pk")
    people.extend(admins)
    return people


def check_threshold(contract: Contract) -> list[BlockNotice]:
    """Warn the client's lead partner and client admins once the block's used share reaches the
    contract's threshold: once per block (the block in minutes is remembered)."""
    if contract.kind != ContractKind.BLOCK_HOURS:
        return []
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=contract.pk)
    )
    state = burn(contract)
    if not state.warning or contract.warned_for_minutes == state.bought:
        return []
    text = (
        f"{contract.name}: {state.used_hours} of {state.bought_hours} prepaid hours used "
        f"({state.percent_used} %, warning at {contract.warn_at_percent} %); "
        f"{state.left_hours} h left."
    )[:300]
    notices = BlockNotice.objects.bulk_create(
        BlockNotice(
            contract=contract,
            recipient=person,
            block_minutes=state.bought,
            used_minutes=state.used,
            text=text,
        )
        for person in _recipients(contract)
    )
    Contract.objects.filter(pk=contract.pk).update(warned_for_minutes=state.bought)
    mail_warning(contract, state, notices)
    record(
        None,
        "contract.block_warning",
        contract,
        source="system",
        scope=f"client:{contract.client_id}",
        changes={"warned": [None, [notice.recipient_id for notice in notices]]},
    )
    return notices


def _letter(contract: Contract, state: Burn, person) -> str:
    """What the warning says by e-mail, and where to see the burn-down: the contract page for
    the lead partner, the portal for the client's admins."""
    path = (
        reverse("billing:contract_detail", args=[contract.pk])
        if person.is_network_staff
        else reverse("portal:home")
    )
    name = person.get_full_name() or person.get_username()
    return (
        f"Hello {name},\n\n"
        f"{contract.client.name}'s prepaid hours are running out. {contract.name}: "
        f"{state.used_hours} of {state.bought_hours} hours used ({state.percent_used} %, "
        f"the warning is at {contract.warn_at_percent} %); {state.left_hours} h left.\n\n"
        "Time beyond the block is billed at the contract's hourly rate; a top-up adds hours "
        "to the block.\n\n"
        f"See the burn-down: {(settings.SITE_URL or '').rstrip('/')}{path}\n\n"
        "-- \nThirdway. Nobody reads answers to this message: reply on a ticket.\n"
    )


def mail_warning(contract: Contract, state: Burn, notices: list[BlockNotice]) -> int:
    """Mail each notice to its recipient through the outbox, in the warning's transaction (a
    rolled-back warning mails nobody), once per person and block: the key names the block's
    minutes, so a retry queues nothing new and a top-up's new block may warn again."""
    subject = f"{contract.client.name}: {state.percent_used} % of the prepaid hours used"
    sent = 0
    for notice in notices:
        person = notice.recipient
        sent += send_letter(
            person.email,
            to_name=person.get_full_name() or person.get_username(),
            subject=subject,
            body=_letter(contract, state, person),
            dedupe_key=f"block-warning:{contract.pk}:{state.bought}:{person.pk}",
        )
    return sent


@transaction.atomic
def top_up(
    actor, contract: Contract, *, minutes: int, price: Decimal, note: str = "", source: str
) -> BlockTopUp:
    """Add prepaid minutes to a block at a price the next invoice run bills (audited)."""
    require(may_manage_billing(actor), "Only a practice admin may top up a block.")
    if contract.kind != ContractKind.BLOCK_HOURS:
        raise invalid("contract", "Only a block-hours contract is topped up.", "a block contract")
    if not isinstance(minutes, int) or minutes < 1 or minutes > TOP_UP_MOST:
        raise invalid("minutes", f"{minutes} minutes cannot be added.", f"1 to {TOP_UP_MOST}")
    if price < 0:
        raise invalid("price", "The price is negative.", "0 or more")
    if len(note) > NOTE_LENGTH:
        raise invalid("note", "The note is too long.", f"at most {NOTE_LENGTH} characters")
    added = BlockTopUp(contract=contract, minutes=minutes, price=price, note=note, added_by=actor)
    added.full_clean()
    added.save()
    record(
        actor,
        "contract.top_up",
        contract,
        source=source,
        scope=f"client:{contract.client_id}",
        changes={"minutes": [None, minutes], "price": [None, str(price)]},
    )
    check_threshold(contract)
    return added
