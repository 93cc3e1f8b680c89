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
from decimal import Decimal
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


def multiplier_of(contract: Contract, line: ContractLine, practice_multiplier: Decimal) -> Decimal:
    """The line's own multiplier, else the practice's; only time and materials has one."""
    if contract.kind != ContractKind.TIME_AND_MATERIALS:
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
