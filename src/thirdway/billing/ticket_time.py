"""Time from ticket replies and notes: the minutes a partner records on an article become a time
entry on the client's contract line that covers the ticket, and stay in step with the article.

The line is chosen among the hourly lines of the ticket's client in force on the day the article
was written (in the author's time zone) that price the author's role or any role:

1. a contract of the ticket's practice before one of another practice;
2. a block-hours contract before a time-and-materials one (prepaid hours burn first);
3. a line for the author's role before a line for any role;
4. the oldest line (lowest id) last.

With no such line the minutes stay on the ticket only.  A correction of the article's minutes
changes the entry in place while its week is not locked (open, rejected or submitted); once the
week is approved it posts a reversing entry and a new one (see ``services.reverse_and_replace``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Q

from thirdway.audit.models import Source
from thirdway.billing.models import (
    BillingStatus,
    ContractKind,
    ContractLine,
    TimeEntry,
    TimeKind,
    Unit,
)

KIND_OF_WORK = {"remote": TimeKind.WORK, "onsite": TimeKind.ONSITE, "travel": TimeKind.TRAVEL}
SPOKEN = {"reply", "note"}


def line_for(ticket, partner, day: dt.date) -> ContractLine | None:
    """The hourly contract line the ticket's time goes on (the rule above), or None."""
    lines = (
        ContractLine.objects.filter(
            contract__client_id=ticket.client_id,
            unit=Unit.HOUR,
            contract__kind__in=[ContractKind.BLOCK_HOURS, ContractKind.TIME_AND_MATERIALS],
            contract__starts_on__lte=day,
            starts_on__lte=day,
            role__in=["", partner.kind],
        )
        .filter(Q(contract__ends_on__isnull=True) | Q(contract__ends_on__gte=day))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("contract")
    )

    def rank(line: ContractLine) -> tuple:
        return (
            line.contract.practice_id != ticket.practice_id,
            line.contract.kind != ContractKind.BLOCK_HOURS,
            line.role == "",
            line.pk,
        )

    return min(lines, key=rank, default=None)


def start_of(partner, article, minutes: int) -> dt.time:
    """When the article's work began, taken as its minutes before it was written, in the
    partner's time zone; work begun the day before counts from the day's midnight."""
    from thirdway.billing import timesheets

    written = article.created_at.astimezone(ZoneInfo(partner.time_zone))
    began = written - dt.timedelta(minutes=max(minutes, 0))
    if began.date() != timesheets.day_of(partner, article.created_at):
        return dt.time(0, 0)
    return began.time().replace(second=0, microsecond=0)


def _live(article) -> TimeEntry | None:
    """The entry that carries the article's minutes now (not reversed, not a reversal)."""
    return (
        TimeEntry.objects.select_for_update(of=("self",))
        .filter(article=article, reverses__isnull=True, reversed_by__isnull=True)
        .select_related("timesheet", "contract_line__contract")
        .first()
    )


def sync_article(article, *, created: bool = False) -> TimeEntry | None:
    """Make, change or reverse the time entry of a ticket article's minutes; the entry that
    carries them afterwards (None when nothing does).  ``created``: a new article, which has
    no entry yet."""
    from thirdway.billing import blocks, services, timesheets

    if article.kind not in SPOKEN or article.author_id is None:
        return None
    partner = getattr(article.author, "partner", None)
    if partner is None:
        return None
    minutes = article.time_spent_minutes
    status = BillingStatus.BILLABLE if article.billable else BillingStatus.DO_NOT_BILL
    kind = KIND_OF_WORK.get(article.work_type, TimeKind.WORK)
    live = None if created else _live(article)
    source = Source.SYSTEM
    if live is None:
        if minutes <= 0:
            return None
        day = timesheets.day_of(partner, article.created_at)
        line = line_for(article.ticket, partner, day)
        if line is None:
            return None
        entry = TimeEntry(
            partner=partner,
            contract_line=line,
            ticket=article.ticket,
            article=article,
            timesheet=timesheets.unlocked_sheet(partner, day),
            worked_on=day,
            start_time=start_of(partner, article, minutes),
            kind=kind,
            worked_minutes=minutes,
            billable_minutes=minutes,
            billing_status=status,
            note=f"{article.ticket.number}: {article.get_kind_display().lower()}"[:500],
        )
        entry.full_clean()
        entry.save()
        _audit(entry, "time.from_article", {"worked_minutes": [None, minutes]})
        services._time_written(entry)
        return entry
    wanted = {"worked_minutes": minutes, "billable_minutes": minutes}
    wanted.update(billing_status=status, kind=kind)
    if all(getattr(live, name) == value for name, value in wanted.items()):
        return live
    # The work began that many minutes before the article, as far as anyone can tell.
    wanted["start_time"] = start_of(partner, article, minutes)
    locked = live.invoice_line_id is not None or (
        live.timesheet is not None and live.timesheet.is_locked
    )
    if locked:
        return services.reverse_and_replace(None, live, wanted, source=source)
    before = live.worked_minutes
    if minutes <= 0:
        _audit(live, "time.from_article_removed", {"worked_minutes": [before, 0]})
        live.delete()
        blocks.check_threshold(live.contract_line.contract)
        return None
    for name, value in wanted.items():
        setattr(live, name, value)
    live.full_clean()
    live.save(update_fields=[*wanted])
    _audit(live, "time.from_article", {"worked_minutes": [before, minutes]})
    services._time_written(live)
    return live


def _audit(entry: TimeEntry, action: str, changes: dict) -> None:
    from thirdway.audit.services import record

    record(
        None,
        action,
        entry,
        source=Source.SYSTEM,
        scope=f"client:{entry.contract_line.contract.client_id}",
        changes=changes,
    )


def follow_article(article, *, created: bool) -> None:
    """Keep the article's time entry in step; registered with the tickets room's
    ``timekeeping`` in ``BillingConfig.ready`` and called by the services that write minutes."""
    if article.kind not in SPOKEN:
        return
    sync_article(article, created=created)
