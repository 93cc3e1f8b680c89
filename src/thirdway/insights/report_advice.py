"""The risks and the recommendations of a client report (pure, like ``client_reports``).

- **Risks.** Expirations in the 60 days after the period, heartbeat (backup and cron) checks
  that alerted in the period, devices whose pending OS updates check (the agent's) is warning
  or critical when the report is made, alerts still open at the period's end.
- **Recommendations.** Explicit thresholds (below), each with its evidence.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thirdway.insights.client_reports import (
        AlertRow,
        RecurringIssue,
        ReportInput,
        Satisfaction,
        SlaClock,
    )

# The defaults; a practice sets its own (``models.InsightThresholds``, read into ``Thresholds``).
SLA_TARGET = 0.90  # the share of a clock's tickets met, under which a recommendation fires
REPEAT_ASSET = 3  # tickets on one device in the period
REPEAT_SUBJECT = 3  # tickets of one subject cluster in the period
REPEAT_ALERTS = 3  # alerts of one check in the period
EXPIRY_HORIZON_DAYS = 60  # expirations listed as risks
UNPATCHED = ("warning", "critical")  # an updates check in these states: a device to patch
EXPIRY_SOON_DAYS = 30  # an unacknowledged expiration this close fires a recommendation
CSAT_LOW_AVERAGE = 3.5  # with at least CSAT_MIN_COUNT ratings
CSAT_MIN_COUNT = 3


@dataclass(frozen=True)
class Thresholds:
    """When a report lists a risk or makes a recommendation."""

    sla_target: float = SLA_TARGET
    repeat_asset: int = REPEAT_ASSET
    repeat_subject: int = REPEAT_SUBJECT
    repeat_alerts: int = REPEAT_ALERTS
    expiry_horizon_days: int = EXPIRY_HORIZON_DAYS
    expiry_soon_days: int = EXPIRY_SOON_DAYS
    csat_low_average: float = CSAT_LOW_AVERAGE
    csat_min_count: int = CSAT_MIN_COUNT


@dataclass(frozen=True)
class Evidence:
    kind: str  # ticket, asset, check, expiry
    id: int
    label: str


@dataclass(frozen=True)
class Risk:
    kind: str  # expiry, heartbeat, unpatched, open_alert
    text: str
    evidence: list[Evidence]


@dataclass(frozen=True)
class Recommendation:
    rule: str
    text: str
    evidence: list[Evidence]


def risks(data: ReportInput) -> list[Risk]:
    risks = []
    horizon = data.last_day + dt.timedelta(days=data.thresholds.expiry_horizon_days)
    for item in sorted(data.expirations, key=lambda e: (e.expires_on, e.id)):
        if data.last_day < item.expires_on <= horizon:
            said = "acknowledged" if item.acknowledged else "not acknowledged"
            risks.append(
                Risk(
                    "expiry",
                    f"{item.name} ({item.kind}) expires on {item.expires_on.isoformat()}, {said}",
                    [Evidence("expiry", item.id, item.name)],
                )
            )
    names = {c.id: c for c in data.checks}
    in_period = [a for a in data.alerts if data.starts_at <= a.opened_at < data.ends_at]
    failed = Counter(a.check_id for a in in_period if names[a.check_id].kind == "heartbeat")
    for check_id, count in sorted(failed.items()):
        risks.append(
            Risk(
                "heartbeat",
                f"{names[check_id].name} missed its heartbeat {count} time"
                f"{'s' if count > 1 else ''} (backup or scheduled job)",
                [Evidence("check", check_id, names[check_id].name)],
            )
        )
    devices = {a.id: a.name for a in data.assets}
    for check in sorted(data.checks, key=lambda c: c.id):
        if check.kind == "agent_updates" and check.status in UNPATCHED:
            device = devices.get(check.asset_id, check.name) if check.asset_id else check.name
            risks.append(
                Risk(
                    "unpatched",
                    f"{device} has operating-system updates waiting "
                    f"({check.name} is {check.status} when the report was made)"[:300],
                    [Evidence("check", check.id, check.name)],
                )
            )
    for alert in sorted(data.alerts, key=lambda a: (a.opened_at, a.id)):
        still_open = alert.resolved_at is None or alert.resolved_at >= data.ends_at
        if alert.opened_at < data.ends_at and still_open:
            check = names[alert.check_id]
            risks.append(
                Risk(
                    "open_alert",
                    f"{check.name} was still alerting at the period's end: {alert.summary}"[:300],
                    [Evidence("check", check.id, check.name)],
                )
            )
    return risks


def recommend(
    data: ReportInput,
    sla: list[SlaClock],
    recurring: list[RecurringIssue],
    satisfaction: Satisfaction,
) -> list[Recommendation]:
    found = []
    limits = data.thresholds
    # a subject cluster whose tickets a device's recommendation already names says nothing new
    on_devices = {
        e.id
        for issue in recurring
        if issue.kind == "asset" and issue.count >= limits.repeat_asset
        for e in issue.tickets
    }
    for issue in recurring:
        if issue.kind == "asset" and issue.count >= limits.repeat_asset and issue.asset:
            found.append(
                Recommendation(
                    "asset_tickets",
                    f"Replace or review {issue.label}: {issue.count} tickets in the period.",
                    [issue.asset, *issue.tickets],
                )
            )
        elif (
            issue.kind == "subject"
            and issue.count >= limits.repeat_subject
            and not ({e.id for e in issue.tickets} <= on_devices)
        ):
            found.append(
                Recommendation(
                    "recurring_subject",
                    f"Find the cause of the recurring “{issue.label}”: {issue.count} tickets.",
                    list(issue.tickets),
                )
            )
    for clock in sla:
        if clock.attainment is not None and clock.attainment < clock.target:
            found.append(
                Recommendation(
                    f"sla_{clock.clock}",
                    f"{clock.label} met {clock.attainment:.0%} of the time, under the "
                    f"{clock.target:.0%} target: review the {len(clock.missed)} missed ticket"
                    f"{'s' if len(clock.missed) != 1 else ''}.",
                    list(clock.missed),
                )
            )
    soon = data.last_day + dt.timedelta(days=limits.expiry_soon_days)
    for item in sorted(data.expirations, key=lambda e: (e.expires_on, e.id)):
        if data.last_day < item.expires_on <= soon and not item.acknowledged:
            days = (item.expires_on - data.last_day).days
            found.append(
                Recommendation(
                    "expiry_soon",
                    f"Renew {item.name} ({item.kind}) before {item.expires_on.isoformat()}: "
                    f"{days} days after the period, and nobody acknowledged it.",
                    [Evidence("expiry", item.id, item.name)],
                )
            )
    names = {c.id: c.name for c in data.checks}
    alerts: dict[int, list[AlertRow]] = defaultdict(list)
    for a in data.alerts:
        if data.starts_at <= a.opened_at < data.ends_at:
            alerts[a.check_id].append(a)
    for check_id, rows in sorted(alerts.items()):
        if len(rows) >= limits.repeat_alerts:
            found.append(
                Recommendation(
                    "check_repeating",
                    f"Fix what keeps failing behind {names[check_id]}: it alerted {len(rows)} "
                    "times in the period.",
                    [Evidence("check", check_id, names[check_id])],
                )
            )
    average = satisfaction.average
    if (
        average is not None
        and satisfaction.count >= limits.csat_min_count
        and average < limits.csat_low_average
    ):
        found.append(
            Recommendation(
                "csat_low",
                f"Satisfaction averaged {average:.1f} out of 5 over {satisfaction.count} "
                "ratings: call the client about the low ones.",
                list(satisfaction.low),
            )
        )
    return found
