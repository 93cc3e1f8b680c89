"""What a month owes: the lines the invoice run would bill, read without writing anything.

Monthly contract lines (counted on the billing date), block-hours top-ups and approved time not
yet billed, per client of a practice.  The run (``invoicing``) bills these and claims them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from thirdway.billing import after_hours
from thirdway.billing.engine import to_money
from thirdway.billing.models import (
    BillableItem,
    BillingSettings,
    BillingStatus,
    BlockTopUp,
    Contract,
    ContractKind,
    ContractLine,
    ContractStatus,
    InvoiceLine,
    Milestone,
    TimeEntry,
    Timing,
    Unit,
)
from thirdway.billing.quantities import Counts
from thirdway.billing.time_rows import EntryRow, unbilled_time
from thirdway.billing.time_rows import unbilled_entries as _unbilled_entries

HOUR = Decimal(60)
CHUNK = 5000  # ids or claims per IN (...) list


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def hours_of(minutes: int) -> Decimal:
    return (Decimal(minutes) / HOUR).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Proposed:
    """A line a run would make (``entries``: the time entries it bills)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    contract_line: ContractLine | None
    claim: str | None = None
    source: str = ""
    counted: list[int] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)
    period: tuple[dt.date, dt.date] | None = None
    vat: tuple[str, Decimal] | None = None  # when no contract line says it
    # The entries' fields the line claims them by: ``invoice_line``, and/or ``after_hours_line``
    # for their minutes outside business hours.
    claims: tuple[str, ...] = ("invoice_line",)
    # The minutes of each entry this line bills, when not all its billable minutes are.
    minutes: dict[int, int] | None = None

    @property
    def net(self) -> Decimal:
        return to_money(self.quantity * self.unit_price)

    @property
    def after_hours_minutes(self) -> dict[str, int] | None:
        """An after-hours line's minutes of each entry (kept on the line: its delivery share
        weighs the partners by them); None for any other line."""
        if "after_hours_line" not in self.claims or self.minutes is None:
            return None
        return {str(pk): minutes for pk, minutes in self.minutes.items()}


# --- what a month owes -------------------------------------------------------------------------


def _contracts(practice, first: dt.date, last: dt.date):
    """Contracts in force in the month or the next (whose lines billed in advance are due)."""
    _, following_last = month_bounds(last + dt.timedelta(days=1))
    return (
        Contract.objects.filter(practice=practice, starts_on__lte=following_last)
        .exclude(status=ContractStatus.DRAFT)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .select_related("client")
        .order_by("client__name", "client_id", "kind", "pk")
    )


def covered(line: ContractLine, first: dt.date) -> tuple[dt.date, dt.date]:
    """The month a run for the month of ``first`` bills a monthly line for: that month in
    arrears, the next one in advance."""
    if line.timing == Timing.ADVANCE:
        first = month_bounds(first)[1] + dt.timedelta(days=1)
    return month_bounds(first)


def days_billed(
    line: ContractLine, contract: Contract, first: dt.date, last: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The days of the month from ``first`` to ``last`` the line and its contract are both in
    force, or None when there are none."""
    start = max(first, line.starts_on, contract.starts_on)
    ends = [last] + [end for end in (line.ends_on, contract.ends_on) if end is not None]
    end = min(ends)
    return (start, end) if start <= end else None


def prorated(price: Decimal, days: int, month_days: int) -> Decimal:
    """A monthly price for ``days`` of a month of ``month_days``: price x days / month days,
    rounded half up to the cent (never Python's half-to-even)."""
    if days == month_days:
        return price
    return (price * days / month_days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _charge(line: ContractLine, contract: Contract, first: dt.date, counter: Counts):
    """The line's charge of the month it covers, prorated by days, or None."""
    start, end = covered(line, first)
    days = days_billed(line, contract, start, end)
    if days is None:
        return None
    counted = counter.count(line, first)
    quantity = line.quantity if line.unit == Unit.FLAT else counted.quantity
    month_days = (end - start).days + 1
    used = (days[1] - days[0]).days + 1
    label = f"{start:%Y-%m}"
    if used != month_days:
        label = f"{days[0]} to {days[1]}, {used}/{month_days} days"
    source = counted.source
    if line.unit == Unit.FLAT and quantity != 1:
        source = f"{quantity} at the flat monthly price"
    if line.timing == Timing.ADVANCE:
        source += "; billed in advance"
    return Proposed(
        f"{line.description} ({label})",
        quantity,
        prorated(line.price, used, month_days),
        line,
        claim=f"line:{line.pk}:{start:%Y-%m}",
        source=source,
        counted=counted.counted,
        period=days,
    )


def _monthly(contract: Contract, first: dt.date, last: dt.date, counter: Counts) -> list[Proposed]:
    """The month's charges of a contract, from its prefetched lines and top-ups."""
    found = []
    lines = contract.lines.all()  # prefetched, in the model's order
    for line in lines:
        if line.unit == Unit.HOUR:
            continue
        charge = _charge(line, contract, first, counter)
        if charge is not None:
            found.append(charge)
    if contract.starts_on > last:
        return found  # a contract of next month: only its lines billed in advance are due
    if contract.kind == ContractKind.BLOCK_HOURS:
        hourly = min(
            (line for line in lines if line.unit == Unit.HOUR),
            key=lambda line: (line.starts_on, line.pk),
            default=None,
        )
        hours = hours_of(contract.block_minutes)
        found.append(
            Proposed(
                f"Block of {hours} prepaid hours: {contract.name}",
                Decimal(1),
                contract.block_price,
                hourly,
                claim=f"block:{contract.pk}",
                source="prepaid block, billed once",
            )
        )
        for added in contract.top_ups.all():
            if timezone.localdate(added.added_at) > last:
                continue
            found.append(
                Proposed(
                    f"Top-up of {hours_of(added.minutes)} prepaid hours: {contract.name}",
                    Decimal(1),
                    added.price,
                    hourly,
                    claim=f"topup:{added.pk}",
                    source=f"hours added on {added.added_at:%Y-%m-%d}, billed once",
                )
            )
    return found


def block_minutes_used(contract: Contract, practice_multiplier: Decimal | None = None) -> int:
    """Minutes of the block burnt by its time already invoiced: billable minutes, time after
    hours at the multiplier (``after_hours.block_extra``)."""
    entries = TimeEntry.objects.filter(
        contract_line__contract=contract,
        invoice_line__isnull=False,
        billing_status=BillingStatus.BILLABLE,
    )
    used = sum(entries.values_list("billable_minutes", flat=True))
    timed = entries.filter(start_time__isnull=False).select_related("contract_line", "partner")
    return used + sum(after_hours.block_extra(contract, timed, practice_multiplier).values())


def _bought(contract: Contract) -> int:
    if contract.kind != ContractKind.BLOCK_HOURS:
        return 0
    return contract.block_minutes + sum(added.minutes for added in contract.top_ups.all())


@dataclass
class Surcharge:
    """What the run needs to bill time after hours: the practice's multiplier, and the clients'
    calendars, read once each."""

    multiplier: Decimal
    month: dt.date
    calendars: dict[int, after_hours.ClientCalendar | None] = field(default_factory=dict)

    @classmethod
    def of(cls, practice, month: dt.date) -> Surcharge:
        found = BillingSettings.objects.filter(practice=practice)
        multiplier = found.values_list("after_hours_multiplier", flat=True).first()
        return cls(multiplier or after_hours.NO_SURCHARGE, month)

    def calendar(self, client_id: int) -> after_hours.ClientCalendar | None:
        if client_id not in self.calendars:
            self.calendars[client_id] = after_hours.calendar_of(client_id, self.month)
        return self.calendars[client_id]


def _split_after_hours(
    contract: Contract, group: list[EntryRow], surcharge: Surcharge | None
) -> list[Proposed]:
    """A time-and-materials group of billable time as its line at the rate for the minutes in
    business hours and, when some fall outside them, a line for those at the rate times the
    multiplier; [] when nothing is billed after hours (one plain line then)."""
    line = group[0].contract_line
    if surcharge is None or not any(entry.start_time for entry in group):
        return []
    multiplier = after_hours.multiplier_of(contract, line, surcharge.multiplier)
    known = surcharge.calendar(contract.client_id) if multiplier > 1 else None
    if known is None:
        return []
    outside = {
        entry.pk: after_hours.outside_minutes(entry, entry.partner.time_zone, known.calendar)
        for entry in group
    }
    # A surcharge billed already (its line kept on a draft) is not billed again.
    surcharged = {entry.pk for entry in group if entry.after_hours_line_id is not None}
    due = {pk: m for pk, m in outside.items() if m and pk not in surcharged}
    after = sum(due.values())
    if after <= 0 and not surcharged:
        return []
    inside = {entry.pk: entry.billable_minutes - outside[entry.pk] for entry in group}
    label = after_hours.describe(multiplier)
    after_line = Proposed(
        f"{line.description} after hours {label}",
        hours_of(after),
        after_hours.after_hours_price(line.price, multiplier),
        line,
        source=(
            f"{after} min outside {known.name} business hours (evenings, weekends, holidays) "
            f"at {line.price} {label}"
        ),
        entries=list(due),
        claims=("after_hours_line",),
        minutes=due,
    )
    if not any(inside.values()) and not surcharged:
        # All of it after hours: one line holds the entries, by both claims.
        after_line.entries = [entry.pk for entry in group]
        after_line.claims = ("invoice_line", "after_hours_line")
        return [after_line]
    in_hours = Proposed(
        line.description,
        hours_of(sum(inside.values())),
        line.price,
        line,
        source=f"time in {known.name} business hours",
        entries=[entry.pk for entry in group],
        minutes=inside,
    )
    return [in_hours, after_line] if after > 0 else [in_hours]


def _time(
    contract: Contract, entries: list[EntryRow], surcharge: Surcharge | None = None
) -> list[Proposed]:
    """The contract's unbilled time, one line per contract line and status; a block's time burns
    its prepaid minutes first, the rest bills at the rate; time and materials outside the
    client's business hours bills on a line of its own at the rate times the multiplier.  A
    group whose reversals outweigh it (time billed before, corrected down since) is left for a
    credit note: an invoice line is never negative.  A project's time is tracked, not billed."""
    if contract.kind == ContractKind.PROJECT:
        return []
    groups: dict[tuple[int, str], list[EntryRow]] = defaultdict(list)
    for entry in entries:
        groups[(entry.contract_line_id, entry.billing_status)].append(entry)
    if not groups:
        return []
    left, extra = 0, {}
    if contract.kind == ContractKind.BLOCK_HOURS:
        practice_multiplier = surcharge.multiplier if surcharge is not None else None
        left = _bought(contract) - block_minutes_used(contract, practice_multiplier)
        extra = after_hours.block_extra(contract, entries, practice_multiplier)
    found = []
    for (_, status), group in sorted(groups.items()):
        line = group[0].contract_line
        minutes = sum(entry.billable_minutes for entry in group)
        if minutes < 0:
            continue
        ids = [entry.pk for entry in group]
        if status == BillingStatus.NO_CHARGE:
            found.append(
                Proposed(
                    f"{line.description} (no charge)",
                    hours_of(minutes),
                    Decimal(0),
                    line,
                    entries=ids,
                )
            )
            continue
        if contract.kind == ContractKind.BLOCK_HOURS:
            more = sum(extra.get(pk, 0) for pk in ids)
            covered = max(0, min(left, minutes + more))
            left -= covered
            burnt = f" ({hours_of(minutes + more)} h with time after hours)" if more else ""
            found.append(
                Proposed(
                    f"{line.description} beyond the block",
                    hours_of(minutes + more - covered),
                    line.price,
                    line,
                    source=(
                        f"{hours_of(minutes)} h worked{burnt}, {hours_of(covered)} h from the block"
                    ),
                    entries=ids,
                )
            )
            continue
        split = _split_after_hours(contract, group, surcharge)
        if split:
            found.extend(split)
            continue
        found.append(Proposed(line.description, hours_of(minutes), line.price, line, entries=ids))
    return found


def _milestones(contract: Contract) -> list[Proposed]:
    """A project's milestones marked done and not billed yet: the next run bills each, once,
    whatever month it bills, taxed as the project's first line."""
    if contract.kind != ContractKind.PROJECT:
        return []
    lines = contract.lines.all()  # prefetched
    first_line = min(lines, key=lambda line: (line.starts_on, line.pk), default=None)
    return [
        Proposed(
            f"{contract.name}: {milestone.name}",
            Decimal(1),
            milestone.value_of(contract.fixed_price),
            first_line,
            claim=milestone.claim,
            source=f"milestone done on {timezone.localdate(milestone.done_at)}, billed once",
            vat=None if first_line else ("S", Decimal(20)),
        )
        for milestone in contract.milestones.all()  # prefetched: the done ones
    ]


def _unbilled_items(practice, last: dt.date):
    """Expenses and hardware of the practice up to the month's end not billed yet."""
    return (
        BillableItem.objects.filter(
            practice=practice, invoice_line__isnull=True, incurred_on__lte=last
        )
        .select_related("client")
        .order_by("incurred_on", "pk")
    )


def _item_line(item: BillableItem) -> Proposed:
    kind = item.get_kind_display().lower()
    return Proposed(
        item.description,
        item.quantity,
        item.unit_price,
        None,
        claim=f"item:{item.pk}",
        source=f"{kind} of {item.incurred_on}, billed once",
        vat=(item.vat_category, item.vat_rate),
    )


def _clients_in_order(practice, first: dt.date, last: dt.date) -> list[int]:
    """The ids of the clients a run may bill, in the order the preview lists them: those with
    contracts (by name), then those with only unbilled items."""
    order = dict.fromkeys(_contracts(practice, first, last).values_list("client_id", flat=True))
    for client_id in _unbilled_items(practice, last).values_list("client_id", flat=True):
        order.setdefault(client_id)
    return list(order)


def proposals_in_parts(
    practice, month: dt.date, clients: int
) -> Iterator[dict[int, tuple[object, list[Proposed]]]]:
    """What a run for ``month`` would bill, ``clients`` clients at a time (in the preview's
    order): each part read in a few queries, so the whole month is never held at once."""
    known = read_at_start(month)
    for part in client_parts(practice, month, clients):
        yield proposals_of(practice, month, part, known)


def client_parts(practice, month: dt.date, clients: int) -> list[list[int]]:
    """The ids of the clients a run for ``month`` may bill, in the preview's order, ``clients``
    at a time."""
    first, last = month_bounds(month)
    order = _clients_in_order(practice, first, last)
    return [order[start : start + clients] for start in range(0, len(order), clients)]


def proposals_of(
    practice, month: dt.date, clients: list[int], known: ReadAtStart | None = None
) -> dict[int, tuple[object, list[Proposed]]]:
    """What a run for ``month`` would bill the clients of ``clients`` (ids), by client id;
    ``known``, when given, what the run read once for every part (``read_at_start``)."""
    first, last = month_bounds(month)
    return _proposals_of(practice, first, last, clients, known)


@dataclass(frozen=True)
class ReadAtStart:
    """What a run reads once, at its start, to pass over the clients with nothing left: the
    clients with unbilled time, and the monthly charges claimed already for the month (in
    arrears) and the next (in advance).  Each part of 500 clients read them by joins and
    ``IN`` lists PostgreSQL answered by reading the whole of the time entries and of the
    invoice lines, so a re-run's cost grew with the square of the clients."""

    timed: set[int]
    claimed: set[str]


def read_at_start(month: dt.date) -> ReadAtStart:
    """Two queries, whatever the number of clients."""
    first, last = month_bounds(month)
    entries = _unbilled_entries(last).order_by()
    timed = entries.values_list("contract_line__contract__client_id", flat=True).distinct()
    months = (f":{first:%Y-%m}", f":{last + dt.timedelta(days=1):%Y-%m}")
    charges = InvoiceLine.objects.filter(claim__startswith="line:").order_by()
    charges = charges.filter(Q(claim__endswith=months[0]) | Q(claim__endswith=months[1]))
    return ReadAtStart(set(timed), set(charges.values_list("claim", flat=True)))


def proposals(practice, month: dt.date) -> dict[int, tuple[object, list[Proposed]]]:
    """What a run for ``month`` would bill, by client id: nothing is written (the preview).

    The contracts, their lines and top-ups, the clients' counts and the unbilled time are read
    in a few queries per thousands of clients, not per client."""
    found: dict[int, tuple[object, list[Proposed]]] = {}
    for part in proposals_in_parts(practice, month, CHUNK):
        found.update(part)
    return found


def _claimed(wanted: list[str]) -> set[str]:
    """The claims among ``wanted`` some invoice line holds."""
    claimed: set[str] = set()
    for chunk in range(0, len(wanted), CHUNK):
        part = wanted[chunk : chunk + CHUNK]
        claimed.update(InvoiceLine.objects.filter(claim__in=part).values_list("claim", flat=True))
    return claimed


def _with_anything_left(
    practice, first: dt.date, last: dt.date, clients: list[int], known: ReadAtStart | None = None
) -> list[int]:
    """The clients among ``clients`` that may still have something to bill, read as plain rows
    before any contract is built: a monthly line's charge not claimed yet, unbilled time or
    items, or a block-hours or project contract (their top-ups and milestones are looked at
    whole).  Those left out would propose nothing: a re-run of a billed month reads only this.
    ``known``: the time and claims read once for the whole run (the claims of the clients
    kept are read again as they are billed)."""
    contracts = list(
        _contracts(practice, first, last)
        .filter(client__in=clients)
        .order_by()
        .values_list("pk", "kind", "client_id")
    )
    whole = (ContractKind.BLOCK_HOURS, ContractKind.PROJECT)
    keep = {client_id for _, kind, client_id in contracts if kind in whole}
    client_of = {pk: client_id for pk, _, client_id in contracts}
    monthly = ContractLine.objects.filter(contract__in=list(client_of)).exclude(unit=Unit.HOUR)
    claims: dict[str, int] = {}
    for pk, timing, contract_id in monthly.order_by().values_list("pk", "timing", "contract_id"):
        start = month_bounds(first)[1] + dt.timedelta(days=1) if timing == Timing.ADVANCE else first
        claims[f"line:{pk}:{start:%Y-%m}"] = client_of[contract_id]
    claimed = known.claimed if known is not None else _claimed(list(claims))
    keep.update(client_id for claim, client_id in claims.items() if claim not in claimed)
    if known is None:
        entries = _unbilled_entries(last).filter(contract_line__contract__in=list(client_of))
        timed = entries.order_by().values_list("contract_line__contract__client_id", flat=True)
        keep.update(timed.distinct())
    else:
        keep.update(client_id for client_id in clients if client_id in known.timed)
    items = _unbilled_items(practice, last).filter(client__in=clients).order_by()
    keep.update(items.values_list("client_id", flat=True).distinct())
    return [client_id for client_id in clients if client_id in keep]


def _read_related(contracts: list[Contract]) -> None:
    """Each contract's lines (in the model's order), top-ups and done milestones, read in one
    query each and kept as its prefetched relations: Django's own prefetch builds a queryset
    per contract and relation, which cost more than reading the rows."""
    of = {contract.pk: contract for contract in contracts}
    for name, rows in (
        ("lines", ContractLine.objects.order_by(*ContractLine._meta.ordering)),
        ("top_ups", BlockTopUp.objects.order_by("pk")),
        ("milestones", Milestone.objects.filter(done_at__isnull=False)),
    ):
        found: dict[int, list] = defaultdict(list)
        for start in range(0, len(contracts), CHUNK):
            for row in rows.filter(contract__in=list(of)[start : start + CHUNK]):
                row._state.fields_cache["contract"] = of[row.contract_id]
                found[row.contract_id].append(row)
        for contract in contracts:
            cache = contract.__dict__.setdefault("_prefetched_objects_cache", {})
            cache[name] = found[contract.pk]  # what ``contract.<name>.all()`` returns


def _proposals_of(
    practice, first: dt.date, last: dt.date, clients: list[int], known: ReadAtStart | None = None
) -> dict[int, tuple[object, list[Proposed]]]:
    clients = _with_anything_left(practice, first, last, clients, known)
    if not clients:
        return {}
    contracts = list(_contracts(practice, first, last).filter(client__in=clients))
    _read_related(contracts)
    surcharge = Surcharge.of(practice, first)
    counter = Counts([contract.client_id for contract in contracts], first)
    time_of = unbilled_time(contracts, last)
    found: dict[int, tuple[object, list[Proposed]]] = {}
    for contract in contracts:
        lines = _monthly(contract, first, last, counter) + _milestones(contract)
        lines += _time(contract, time_of[contract.pk], surcharge)
        if lines:
            found.setdefault(contract.client_id, (contract.client, []))[1].extend(lines)
    for item in _unbilled_items(practice, last).filter(client__in=clients):
        found.setdefault(item.client_id, (item.client, []))[1].append(_item_line(item))
    # Only the month's own claims are looked up, however long the practice's history; the
    # monthly charges' in what the run read at its start (one claimed since, by a run at the
    # same time, is refused by the claim's unique constraint as the line is inserted).
    wanted = [line.claim for _, lines in found.values() for line in lines if line.claim]
    if known is None:
        claimed = _claimed(wanted)
    else:
        claimed = {claim for claim in wanted if claim in known.claimed}
        claimed |= _claimed([claim for claim in wanted if not claim.startswith("line:")])
    unclaimed = {}
    for client_id, (client, lines) in found.items():
        left = [line for line in lines if line.claim not in claimed]
        if left:
            unclaimed[client_id] = (client, left)
    return unclaimed
