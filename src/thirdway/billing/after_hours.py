"""Time worked outside a client's business hours, billed at the rate times a multiplier.

The client's calendar is the one its SLA counts on (the client's own calendar, else its SLA
policy's, else the default policy's): its weekly hours, public
holidays and closed days, in its time zone.  An entry's span runs from its ``start_time`` on
``worked_on`` in the partner's time zone for its worked minutes; the seconds of that span
outside the calendar's business time are its after-hours share, and its billable minutes are
split in that proportion, rounded half up to the minute.  An entry without a start time, or a
client without a calendar, is billed at the rate whatever the hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q

from thirdway.billing.engine import to_money
from thirdway.billing.models import Contract, ContractKind, ContractLine, InvoiceLine, TimeEntry
from thirdway.sla import calendars
from thirdway.sla.engine import Calendar, business_seconds_between

NO_SURCHARGE = Decimal(1)


@dataclass(frozen=True)
class ClientCalendar:
    """A client's business calendar, as the engine counts it, and its name for the invoice."""

    name: str
    calendar: Calendar


def calendar_of(client_id: int, day: dt.date) -> ClientCalendar | None:
    """The client's calendar (its own, else its SLA policy's, else the default policy's),
    with the public holidays of the years around ``day``."""
    from thirdway.sla import services as sla_services
    from thirdway.sla.models import ClientServiceLevel

    level = ClientServiceLevel.objects.filter(client_id=client_id).select_related("calendar")
    found = level.first()
    row = found.calendar if found is not None else None
    if row is None:
        _, calendar_id = sla_services.cached_policy_for_client(client_id)
        row = sla_services.cached_calendar(calendar_id)
    if row is None:
        return None
    return ClientCalendar(row.name, calendars.to_engine(row, today=day))


SURCHARGED_KINDS = (ContractKind.TIME_AND_MATERIALS, ContractKind.BLOCK_HOURS)


def multiplier_of(contract: Contract, line: ContractLine, practice_multiplier: Decimal) -> Decimal:
    """The line's own multiplier, else the practice's; time and materials bills time after
    hours at it, a block of hours burns it at it; other kinds have none."""
    if contract.kind not in SURCHARGED_KINDS:
        return NO_SURCHARGE
    if line.after_hours_multiplier is not None:
        return line.after_hours_multiplier
    return practice_multiplier


def span_of(entry: TimeEntry, zone: str) -> tuple[dt.datetime, dt.datetime] | None:
    """When the entry's work ran (aware), or None without a start time."""
    if entry.start_time is None:
        return None
    minutes = abs(entry.worked_minutes) or abs(entry.billable_minutes)
    start = dt.datetime.combine(entry.worked_on, entry.start_time, tzinfo=ZoneInfo(zone))
    # Through UTC, so the minutes are real ones on a day the clocks change.
    start = start.astimezone(dt.UTC)
    return start, start + dt.timedelta(minutes=minutes)


def outside_minutes(entry: TimeEntry, zone: str, calendar: Calendar) -> int:
    """The entry's billable minutes outside business hours: its billable minutes times the share
    of its span outside them, rounded half up (negative for a reversing entry)."""
    span = span_of(entry, zone)
    if span is None or not entry.billable_minutes:
        return 0
    seconds = int((span[1] - span[0]).total_seconds())
    if not seconds:
        return 0
    outside = seconds - business_seconds_between(calendar, *span)
    billable = abs(entry.billable_minutes)
    share = (2 * billable * outside + seconds) // (2 * seconds)
    return share if entry.billable_minutes > 0 else -share


def burned_minutes(billable: int, outside: int, multiplier: Decimal) -> int:
    """The block minutes an entry burns: its billable minutes, and its ``outside`` minutes
    (already rounded, negative for a reversal) once more times the multiplier less one,
    rounded half up to the minute (away from zero for a reversal, so it takes back exactly
    what its entry burned).  60 minutes at night at 1.5 burn 90."""
    if not outside or multiplier <= NO_SURCHARGE:
        return billable
    extra = (abs(outside) * (multiplier - 1)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return billable + (int(extra) if outside > 0 else -int(extra))


def practice_multiplier_of(practice_id: int) -> Decimal:
    """The practice's after-hours multiplier (1.00 until its settings say otherwise)."""
    from thirdway.billing.models import BillingSettings

    found = BillingSettings.objects.filter(practice_id=practice_id)
    return found.values_list("after_hours_multiplier", flat=True).first() or NO_SURCHARGE


def block_extra(
    contract: Contract, entries, practice_multiplier: Decimal | None = None
) -> dict[int, int]:
    """The minutes a block's time burns beyond its billable minutes, by entry id (only the
    entries with some after hours): each entry with a start time on a line whose multiplier
    (the line's, else the practice's) is above 1 burns its after-hours minutes once more times
    the multiplier less one.  ``entries`` is the block's time (models with their
    ``contract_line`` and ``partner``); a client without a calendar burns none."""
    if contract.kind != ContractKind.BLOCK_HOURS:
        return {}
    if practice_multiplier is None:
        practice_multiplier = practice_multiplier_of(contract.practice_id)
    calendars_by_year: dict[int, ClientCalendar | None] = {}
    extra = {}
    for entry in entries:
        if entry.start_time is None or not entry.billable_minutes:
            continue
        multiplier = multiplier_of(contract, entry.contract_line, practice_multiplier)
        if multiplier <= NO_SURCHARGE:
            continue
        year = entry.worked_on.year
        if year not in calendars_by_year:
            calendars_by_year[year] = calendar_of(contract.client_id, dt.date(year, 7, 1))
        known = calendars_by_year[year]
        if known is None:
            return {}
        outside = outside_minutes(entry, entry.partner.time_zone, known.calendar)
        more = burned_minutes(entry.billable_minutes, outside, multiplier) - entry.billable_minutes
        if more:
            extra[entry.pk] = more
    return extra


def after_hours_price(price: Decimal, multiplier: Decimal) -> Decimal:
    """The hourly price after hours: the rate times the multiplier, rounded half up."""
    return to_money(price * multiplier)


def paired_lines(line: InvoiceLine) -> list[InvoiceLine]:
    """The other lines of the invoice billing the same time entries as ``line`` (its in-hours
    line, or its after-hours line): taken off a draft together."""
    entries = TimeEntry.objects.filter(Q(invoice_line=line) | Q(after_hours_line=line))
    others = InvoiceLine.objects.filter(invoice_id=line.invoice_id).exclude(pk=line.pk)
    paired = others.filter(Q(time_entries__in=entries) | Q(after_hours_entries__in=entries))
    return list(paired.distinct())


def describe(multiplier: Decimal) -> str:
    """The multiplier as the invoice says it: 1.50 is shown 1.5, 2.00 is 2, after a times sign."""
    text = format(multiplier.normalize(), "f")
    return f"×{text}"
