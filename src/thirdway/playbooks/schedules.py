"""Recurring maintenance: keeping schedules, and the sweep that makes their work ahead of time.

A sweep claims a schedule's slot with a conditional UPDATE (``next_at`` still what it read), so
two clocks never make the same work twice; after downtime it makes one item for the latest due
occurrence, not one per missed slot; while the last item is still open it makes none.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.clients.models import Asset, Client, Site
from thirdway.errors import invalid, require
from thirdway.network.models import Practice
from thirdway.playbooks import recurrence
from thirdway.playbooks.access import can_work
from thirdway.playbooks.models import OnHoliday, Playbook, Schedule, ScheduleMakes
from thirdway.playbooks.services import playbooks_actor, start_run
from thirdway.sla import calendars
from thirdway.sla.services import cached_calendar, cached_policy_for_client
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import TicketType

log = logging.getLogger(__name__)
MAX_LEAD = 60 * 24 * 60  # minutes
FIELDS = (
    "name",
    "rule",
    "starts_at",
    "time_zone",
    "lead_minutes",
    "makes",
    "on_holiday",
    "is_active",
)


def _rule(schedule: Schedule):
    return recurrence.parse(schedule.rule, schedule.starts_at, schedule.time_zone)


def _check(schedule: Schedule):
    try:
        ZoneInfo(schedule.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            "time_zone", "Unknown time zone.", "an IANA zone such as Europe/Paris"
        ) from None
    try:
        rule = _rule(schedule)
    except recurrence.RuleRefused as refused:
        raise invalid(
            "rule", str(refused), "an RFC 5545 RRULE such as FREQ=MONTHLY;BYDAY=1MO;BYHOUR=8"
        ) from None
    if not 0 <= schedule.lead_minutes <= MAX_LEAD:
        raise invalid("lead_minutes", "Out of range.", f"0 to {MAX_LEAD} minutes")
    if schedule.makes not in ScheduleMakes.values:
        raise invalid("makes", "Unknown kind of work.", ", ".join(ScheduleMakes.values))
    if schedule.makes == ScheduleMakes.RUN and schedule.playbook is None:
        raise invalid("playbook", "Name the playbook to run.", "the id of a published playbook")
    if schedule.on_holiday not in OnHoliday.values:
        raise invalid("on_holiday", "Unknown choice.", ", ".join(OnHoliday.values))
    if not schedule.name.strip():
        raise invalid("name", "A schedule needs a name.", "1 to 150 characters")
    return rule


@transaction.atomic
def save_schedule(
    actor, client: Client, data: dict, *, schedule: Schedule | None = None, source: str
) -> Schedule:
    """Create (or change) a client's schedule; the rule is checked before anything is kept."""
    require(can_work(actor, client), "Only the network serving this client keeps its schedules.")
    schedule = schedule or Schedule(client=client, time_zone=client.time_zone or "UTC")
    before = {"rule": schedule.rule, "name": schedule.name}
    for name in FIELDS:
        if name in data and data[name] is not None:
            setattr(
                schedule, name, data[name].strip() if isinstance(data[name], str) else data[name]
            )
    if "playbook" in data:
        schedule.playbook = find_visible(
            Playbook.objects.for_user(actor), "playbook", data["playbook"]
        )
    if "practice" in data:
        schedule.practice = find_visible(Practice.objects.all(), "practice", data["practice"])
    _place(schedule, client, data)
    if schedule.starts_at is None:
        raise invalid("starts_at", "Say when the rule starts.", "a date and time")
    rule = _check(schedule)
    schedule.next_at = recurrence.first_at_or_after(rule, max(timezone.now(), schedule.starts_at))
    schedule.make_at = make_at(schedule.next_at, schedule.lead_minutes)
    schedule.save()
    record(
        actor,
        "playbook.schedule_save",
        schedule,
        source=source,
        scope=f"client:{client.pk}",
        changes={"rule": [before["rule"], schedule.rule], "name": [before["name"], schedule.name]},
    )
    return schedule


def _place(schedule: Schedule, client: Client, data: dict) -> None:
    """The site and asset, if given, must be the schedule's client's own (else 400 naming it)."""
    for name, model in (("site", Site), ("asset", Asset)):
        if name not in data:
            continue
        if data[name] is None:
            setattr(schedule, name, None)
            continue
        found = model.objects.filter(pk=data[name], client=client).first()
        if found is None:
            raise invalid(
                name, f"This {name} is not one of {client.name}.", f"a {name} of {client.name}"
            )
        setattr(schedule, name, found)
    if schedule.asset is not None and schedule.site is None and "site" not in data:
        schedule.site_id = schedule.asset.site_id


def working_days(client_id: int):
    """Whether a date is a working day on the client's calendar (its hours, public holidays
    and own closed days); every day is one when the client has no calendar."""
    calendar = cached_calendar(cached_policy_for_client(client_id)[1])
    if calendar is None:
        return lambda day: True

    def working(day: dt.date) -> bool:
        compiled = calendars.to_engine(calendar, today=day)
        return bool(compiled.weekly_hours[day.weekday()]) and day not in compiled.closed_dates

    return working


def _open_work(schedule: Schedule) -> bool:
    if schedule.last_ticket_id is None:
        return False
    return schedule.last_ticket.status in OPEN


def _make(schedule: Schedule, slot: dt.datetime):
    actor = playbooks_actor()
    when = slot.astimezone(ZoneInfo(schedule.time_zone)).strftime("%Y-%m-%d %H:%M %Z")
    if schedule.makes == ScheduleMakes.RUN:
        run = start_run(
            actor, schedule.playbook, schedule.client, source=Source.SYSTEM, schedule=schedule
        )
        return run.ticket
    return tickets.create_ticket(
        actor,
        schedule.client,
        subject=f"{schedule.name} · {when}"[:250],
        body_text=f"Recurring maintenance due {when} ({schedule.rule}).",
        practice_id=schedule.practice_id,
        site_id=schedule.site_id,
        asset_id=schedule.asset_id,
        type=TicketType.MAINTENANCE,
        source=Source.SYSTEM,
    )


def make_at(next_at: dt.datetime | None, lead_minutes: int) -> dt.datetime | None:
    return None if next_at is None else next_at - dt.timedelta(minutes=lead_minutes)


def due_schedules(now: dt.datetime) -> list[Schedule]:
    """The active schedules whose lead time has come at ``now`` (what a sweep works on): read
    through the partial index on ``make_at``, so a sweep reads only the rows that are due."""
    rows = Schedule.objects.filter(is_active=True, make_at__lte=now).select_related(
        "client", "playbook", "last_ticket"
    )
    return list(rows.order_by("make_at", "pk"))


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Make the work of every schedule whose lead time has come; one bad row stops no other."""
    now = now or timezone.now()
    made = skipped = failed = 0
    for schedule in due_schedules(now):
        try:
            outcome = _sweep_one(schedule, now)
        except Exception:
            log.exception("Schedule %s could not make its work", schedule.pk)
            failed += 1
            continue
        made += outcome == "made"
        skipped += outcome == "skipped"
    return {"made": made, "skipped": skipped, "failed": failed}


@transaction.atomic
def _sweep_one(schedule: Schedule, now: dt.datetime) -> str:
    rule = _rule(schedule)
    decided = recurrence.due(
        rule, schedule.next_at, dt.timedelta(minutes=schedule.lead_minutes), now
    )
    if decided.slot is None:
        return "waiting"
    slot = recurrence.on_working_day(
        rule,
        decided.slot,
        schedule.next_at,
        working_days(schedule.client_id),
        schedule.on_holiday,
        schedule.time_zone,
    )
    lead = dt.timedelta(minutes=schedule.lead_minutes)
    if slot is not None and slot - lead > now:
        # Moved to a later working day: its work is made lead time before the moved date.
        Schedule.objects.filter(pk=schedule.pk, next_at=schedule.next_at).update(
            make_at=slot - lead
        )
        return "waiting"
    claimed = Schedule.objects.filter(pk=schedule.pk, next_at=schedule.next_at).update(
        next_at=decided.next_at,
        make_at=make_at(decided.next_at, schedule.lead_minutes),
        last_slot=slot or decided.slot,
    )
    if not claimed:
        return "taken"
    if slot is None or _open_work(schedule):
        return "skipped"
    ticket = _make(schedule, slot)
    Schedule.objects.filter(pk=schedule.pk).update(last_ticket=ticket)
    return "made"
