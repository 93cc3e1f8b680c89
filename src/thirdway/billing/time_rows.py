"""The unbilled time a run reads, as plain rows: as many as 150,000 entries at the month-end,
each of which was three model instances (the entry, its contract line and its partner)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from thirdway.billing.models import (
    BillingStatus,
    Contract,
    ContractLine,
    TimeEntry,
    TimesheetState,
)


def unbilled_entries(last: dt.date):
    """Unbilled billable and no-charge time of approved weeks up to the month's end."""
    return TimeEntry.objects.filter(
        invoice_line__isnull=True,
        timesheet__state=TimesheetState.APPROVED,
        worked_on__lte=last,
        billing_status__in=[BillingStatus.BILLABLE, BillingStatus.NO_CHARGE],
    )


@dataclass(frozen=True, slots=True)
class EntryPartner:
    """What billing time after hours reads of the partner who worked it."""

    time_zone: str


@dataclass(frozen=True, slots=True)
class EntryRow:
    """What a run reads of an unbilled time entry; ``contract_line`` is the line its contract
    was read with."""

    pk: int
    contract_line_id: int
    billing_status: str
    billable_minutes: int
    worked_minutes: int
    worked_on: dt.date
    start_time: dt.time | None
    after_hours_line_id: int | None
    partner: EntryPartner
    contract_line: ContractLine


def unbilled_time(contracts: list[Contract], last: dt.date) -> dict[int, list[EntryRow]]:
    """The unbilled time of the contracts (their lines read already, as ``contract.lines``), by
    contract id, each contract's in the order worked: one query for all of them."""
    found: dict[int, list[EntryRow]] = defaultdict(list)
    if not contracts:
        return found
    lines = {line.pk: line for contract in contracts for line in contract.lines.all()}
    ids = [contract.pk for contract in contracts]
    zones: dict[str, EntryPartner] = {}
    rows = (
        unbilled_entries(last)
        .filter(contract_line__contract__in=ids)
        .order_by("worked_on", "pk")
        .values_list(
            "pk",
            "contract_line_id",
            "billing_status",
            "billable_minutes",
            "worked_minutes",
            "worked_on",
            "start_time",
            "after_hours_line_id",
            "partner__time_zone",
        )
    )
    for *entry, zone in rows:
        line = lines[entry[1]]
        partner = zones.get(zone) or zones.setdefault(zone, EntryPartner(zone))
        found[line.contract_id].append(EntryRow(*entry, partner, line))  # type: ignore[misc]
    return found
