"""Every change to calendars, policies, targets, escalation steps and client service levels.

Practice admins only; each write is validated (bad hours, unknown zones or holiday areas,
escalation steps out of order) and leaves an audit record.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from thirdway import configcache
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.errors import invalid, require_admin
from thirdway.sla import calendars, engine
from thirdway.sla.models import (
    BusinessCalendar,
    ClientServiceLevel,
    ClockKind,
    EscalationAction,
    EscalationStep,
    SlaPolicy,
    SlaTarget,
)

CALENDAR_FIELDS = [
    "name",
    "time_zone",
    "weekly_hours",
    "holiday_country",
    "holiday_region",
    "closed_dates",
]
POLICY_FIELDS = ["name", "description", "calendar", "is_default"]
ADMIN_ONLY = "Only a practice admin may change service levels."

# The rooms above that count time on policies and calendars (the clocks of tickets) are told
# when targets, steps or a calendar's hours change, in the transaction of the change; this
# room imports none of them: they register in their ``AppConfig.ready``.
_listeners: list[Callable[..., None]] = []


def listen(listener: Callable[..., None]) -> None:
    """Call ``listener(policy_id=..., calendar_id=...)`` after each such change."""
    if listener not in _listeners:
        _listeners.append(listener)


def _tell(*, policy_id: int | None = None, calendar_id: int | None = None) -> None:
    for listener in _listeners:
        listener(policy_id=policy_id, calendar_id=calendar_id)


def _clean_calendar(data: dict) -> dict:
    data = dict(data)
    if "time_zone" in data:
        calendars.check_zone(data["time_zone"])
    if "weekly_hours" in data:
        data["weekly_hours"] = calendars.check_hours(data["weekly_hours"])
    if "closed_dates" in data:
        data["closed_dates"] = calendars.check_closed_dates(data["closed_dates"])
    if "holiday_country" in data:
        data["holiday_country"] = (data["holiday_country"] or "").upper()
    return data


@transaction.atomic
def create_calendar(actor, *, source: str, **data) -> BusinessCalendar:
    """A business calendar; ``weekly_hours`` defaults to none and must then be given."""
    require_admin(actor, ADMIN_ONLY)
    data = _clean_calendar(data)
    calendar = BusinessCalendar(**data)
    calendars.check_holiday_area(calendar.holiday_country, calendar.holiday_region)
    if "weekly_hours" not in data:
        raise invalid("weekly_hours", "A calendar needs opening hours.", "see weekly_hours")
    return create_and_record(
        actor, calendar, fields=CALENDAR_FIELDS, action="sla.calendar.create", source=source
    )


@transaction.atomic
def update_calendar(actor, calendar: BusinessCalendar, data: dict, *, source: str):
    require_admin(actor, ADMIN_ONLY)
    data = _clean_calendar(data)
    calendars.check_holiday_area(
        data.get("holiday_country", calendar.holiday_country),
        data.get("holiday_region", calendar.holiday_region),
    )
    updated = update_and_record(
        actor,
        calendar,
        data,
        fields=CALENDAR_FIELDS,
        action="sla.calendar.update",
        source=source,
    )
    _tell(calendar_id=calendar.pk)
    return updated


@transaction.atomic
def create_policy(
    actor,
    *,
    name: str,
    calendar: BusinessCalendar,
    targets: dict[int, dict[str, int | None]],
    steps: dict[str, list[tuple[int, list[str]]]] | None = None,
    description: str = "",
    is_default: bool = False,
    source: str,
) -> SlaPolicy:
    """A policy with its targets per priority and its escalation steps per clock.

    ``targets`` maps a priority (1-4) to ``{"first_response": minutes, "next_response": ...,
    "resolution": ...}``; ``steps`` maps a clock kind to ``[(percent, [action, ...]), ...]``.
    """
    require_admin(actor, ADMIN_ONLY)
    if is_default:
        SlaPolicy.objects.filter(is_default=True).update(is_default=False)
    policy = create_and_record(
        actor,
        SlaPolicy(name=name, calendar=calendar, description=description, is_default=is_default),
        fields=POLICY_FIELDS,
        action="sla.policy.create",
        source=source,
    )
    set_targets(actor, policy, targets, source=source)
    set_steps(actor, policy, steps or {}, source=source)
    return policy


@transaction.atomic
def update_policy(actor, policy: SlaPolicy, data: dict, *, source: str) -> SlaPolicy:
    require_admin(actor, ADMIN_ONLY)
    if data.get("is_default"):
        SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
    return update_and_record(
        actor, policy, data, fields=POLICY_FIELDS, action="sla.policy.update", source=source
    )


def _check_minutes(priority, kind: str, value) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value <= 0 or value > 525_600:
        raise invalid(
            f"targets.{priority}.{kind}",
            f"{value!r} is not a number of business minutes.",
            "a whole number of minutes from 1 to 525600, or null for no target",
        )
    return value


@transaction.atomic
def set_targets(actor, policy: SlaPolicy, targets: dict, *, source: str) -> None:
    """Replace the policy's targets (priorities left out have no targets)."""
    require_admin(actor, ADMIN_ONLY)
    kinds = set(ClockKind.values)
    rows = []
    for priority, values in targets.items():
        if int(priority) not in (1, 2, 3, 4):
            raise invalid("targets", f"P{priority} does not exist.", "priorities 1, 2, 3, 4")
        unknown = set(values) - kinds
        if unknown:
            raise invalid("targets", f"Unknown clock(s) {sorted(unknown)}.", ", ".join(kinds))
        minutes = {k: _check_minutes(priority, k, values.get(k)) for k in ClockKind.values}
        rows.append(
            SlaTarget(
                policy=policy,
                priority=int(priority),
                **{f"{k}_minutes": v for k, v in minutes.items()},
            )
        )
    SlaTarget.objects.filter(policy=policy).delete()
    SlaTarget.objects.bulk_create(rows)
    configcache.changed()  # bulk writes send no signals
    _tell(policy_id=policy.pk)
    record(
        actor,
        "sla.policy.targets",
        policy,
        source=source,
        changes={"targets": [None, {str(k): v for k, v in targets.items()}]},
    )


def check_steps(clock: str, steps: list) -> engine.EscalationPolicy:
    """Validate one clock's steps with the engine: percents 1-100, strictly increasing."""
    if clock not in ClockKind.values:
        raise invalid("steps", f"Unknown clock {clock!r}.", ", ".join(ClockKind.values))
    try:
        policy = engine.EscalationPolicy(
            tuple(
                engine.EscalationStep(percent, ",".join(actions) or "-")
                for percent, actions in steps
            )
        )
    except (engine.EscalationError, TypeError, ValueError) as error:
        raise invalid(
            f"steps.{clock}",
            str(error),
            "steps in increasing order of percent, each from 1 to 100 (100 = the breach)",
        ) from error
    for _, actions in steps:
        unknown = [action for action in actions if action not in EscalationAction.values]
        if unknown or not actions:
            raise invalid(
                f"steps.{clock}",
                f"Unknown or missing action(s) {unknown}.",
                ", ".join(EscalationAction.values),
            )
    return policy


@transaction.atomic
def set_steps(actor, policy: SlaPolicy, steps: dict, *, source: str) -> None:
    """Replace the policy's escalation steps, ``{clock: [(percent, [actions]), ...]}``."""
    require_admin(actor, ADMIN_ONLY)
    rows = []
    for clock, clock_steps in steps.items():
        check_steps(clock, list(clock_steps))
        rows += [
            EscalationStep(policy=policy, clock=clock, percent=percent, actions=list(actions))
            for percent, actions in clock_steps
        ]
    EscalationStep.objects.filter(policy=policy).delete()
    EscalationStep.objects.bulk_create(rows)
    _tell(policy_id=policy.pk)
    record(
        actor,
        "sla.policy.steps",
        policy,
        source=source,
        changes={"steps": [None, {k: [list(s) for s in v] for k, v in steps.items()}]},
    )


@transaction.atomic
def set_client_service_level(
    actor, client, *, policy: SlaPolicy | None, calendar: BusinessCalendar | None, source: str
) -> ClientServiceLevel:
    """Choose the client's policy and calendar (None: the default policy / its calendar)."""
    require_admin(actor, ADMIN_ONLY)
    level, _ = ClientServiceLevel.objects.get_or_create(client=client)
    before = [level.policy_id, level.calendar_id]
    level.policy, level.calendar = policy, calendar
    level.save()
    record(
        actor,
        "sla.client_level",
        level,
        source=source,
        changes={"policy/calendar": [before, [level.policy_id, level.calendar_id]]},
    )
    return level


def policy_for_client(client_id: int) -> tuple[SlaPolicy | None, BusinessCalendar | None]:
    """The policy a client's new tickets get, and the calendar they are counted on."""
    level = (
        ClientServiceLevel.objects.select_related("policy__calendar", "calendar")
        .filter(client_id=client_id)
        .first()
    )
    policy = level.policy if level and level.policy else None
    if policy is None:
        policy = SlaPolicy.objects.select_related("calendar").filter(is_default=True).first()
    if policy is None:
        return None, None
    calendar = level.calendar if level and level.calendar else policy.calendar
    return policy, calendar


# --- read through the configuration cache (every new ticket asks) -------------------------------


def cached_policy_for_client(client_id: int) -> tuple[int | None, int | None]:
    """The ids of ``policy_for_client``, from the process's configuration cache."""

    def load():
        policy, calendar = policy_for_client(client_id)
        return (policy.pk if policy else None, calendar.pk if calendar else None)

    return configcache.get(("sla.client", client_id), load)


def cached_targets(policy_id: int) -> dict[int, SlaTarget]:
    """The policy's targets by priority (shared: read, never change them)."""
    return configcache.get(
        ("sla.targets", policy_id),
        lambda: {t.priority: t for t in SlaTarget.objects.filter(policy_id=policy_id)},
    )


def cached_calendar(calendar_id: int | None) -> BusinessCalendar | None:
    """A calendar row (shared: read, never change it)."""
    if calendar_id is None:
        return None
    return configcache.get(
        ("sla.calendar", calendar_id),
        lambda: BusinessCalendar.objects.filter(pk=calendar_id).first(),
    )
