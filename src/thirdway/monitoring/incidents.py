"""Alerts grouped into incidents, one ticket each, as Prometheus Alertmanager groups alerts.

The client's alert rule says what groups alerts (the client, the site, the kind of check, an
asset tag, or nothing) and for how long a group stays open to newcomers (the *group window*,
from the first alert of the incident).  An alert that opens while an incident of its group
key is open and within that window joins it: no new ticket, a note on the incident's ticket.
The ticket is resolved only when every alert of the incident has recovered.  While it stays
open, the rule's *repeat interval* adds a reminder note (none when it is 0).  With a *group
wait*, a new incident opens its ticket only that long after its first alert (by the sweep),
so alerts arriving meanwhile are all in the first ticket (``alerting.open_waited_tickets``).

Called by :mod:`thirdway.monitoring.alerting` (opening, recovery) and by the sweep (reminders).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Prefetch

from thirdway.audit.models import Source
from thirdway.monitoring.models import (
    Alert,
    AlertRule,
    AlertStatus,
    AssetTag,
    Check,
    GroupBy,
    Incident,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Ticket

logger = logging.getLogger(__name__)
MAX_NAMES = 10


def group_key(rule: AlertRule, check: Check) -> str:
    if rule.group_by == GroupBy.CLIENT:
        return "client"
    if rule.group_by == GroupBy.SITE:
        return f"site:{check.site_id or '-'}"
    if rule.group_by == GroupBy.KIND:
        return f"kind:{check.kind}"
    if rule.group_by == GroupBy.TAG and rule.group_tag and check.asset_id is not None:
        tagged = AssetTag.objects.filter(asset_id=check.asset_id, name=rule.group_tag)
        if tagged.exists():  # the tag as it is now: tagging an asset later brings it in
            return f"tag:{rule.group_tag}"
    return f"check:{check.pk}"  # not grouped


def _reminder_after(rule: AlertRule, at: dt.datetime) -> dt.datetime | None:
    seconds = rule.repeat_interval_seconds
    return at + dt.timedelta(seconds=seconds) if seconds else None


def join_or_open(check: Check, alert: Alert, rule: AlertRule) -> tuple[Incident, bool]:
    """The incident the new alert belongs to, and whether it joined one already open."""
    key = group_key(rule, check)
    at = alert.opened_at
    incident = None
    grouped = rule.group_by != GroupBy.NONE and not key.startswith("check:")
    if grouped and rule.pk is not None:
        # One incident per group even when two checks of it alert at once: the client's rule
        # row is the lock (it exists, since grouping was set on it).
        AlertRule.objects.select_for_update().filter(pk=rule.pk).exists()
        window = dt.timedelta(seconds=rule.group_window_seconds)
        incident = (
            Incident.objects.select_for_update()
            .filter(
                client_id=check.client_id,
                group_key=key,
                status=AlertStatus.OPEN,
                opened_at__gte=at - window,
            )
            .order_by("-opened_at", "-id")
            .first()
        )
        ticket = _live(incident.ticket) if incident is not None else None
        if ticket is not None and ticket.status not in OPEN:
            incident = None  # its ticket was closed by hand: a new problem, a new ticket
    joined = incident is not None
    if incident is None:
        wait = rule.group_wait_seconds if grouped else 0
        incident = Incident.objects.create(
            client_id=check.client_id,
            group_key=key,
            opened_at=at,
            ticket_due_at=at + dt.timedelta(seconds=wait) if wait else None,
            next_reminder_at=_reminder_after(rule, at),
        )
    alert.incident = incident
    return incident, joined


def incidents_for(user, *, client=None, status: str = "open"):
    """The incidents ``user`` sees (newest first), with their alerts and checks in one query
    more, whatever their number."""
    rows = Incident.objects.for_user(user).select_related("client", "ticket")
    if client is not None:
        rows = rows.filter(client=client)
    if status in (AlertStatus.OPEN, AlertStatus.RESOLVED):
        rows = rows.filter(status=status)
    alerts = Alert.objects.select_related("check_obj__site").order_by("opened_at", "id")
    return rows.prefetch_related(Prefetch("alerts", queryset=alerts)).order_by("-opened_at", "-id")


def open_alerts(incident: Incident):
    rows = incident.alerts.filter(status=AlertStatus.OPEN).select_related("check_obj")
    return rows.order_by("opened_at", "id")


def names(alerts) -> str:
    shown = [alert.check_obj.name for alert in alerts[:MAX_NAMES]]
    more = len(alerts) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def still_open_after_recovery(alert: Alert, at: dt.datetime) -> list[Alert]:
    """After ``alert`` recovered: the incident's alerts still open (the incident resolves
    when there are none)."""
    incident = alert.incident
    if incident is None:
        return []
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    others = list(open_alerts(incident).exclude(pk=alert.pk))
    if not others and incident.status == AlertStatus.OPEN:
        incident.status = AlertStatus.RESOLVED
        incident.resolved_at = at
        incident.next_reminder_at = None
        incident.save(update_fields=["status", "resolved_at", "next_reminder_at"])
    return others


def _live(ticket: Ticket | None) -> Ticket | None:
    seen = 0
    while ticket is not None and ticket.merged_into_id is not None and seen < 10:
        ticket = ticket.merged_into
        seen += 1
    return ticket


def remind_due(now: dt.datetime) -> int:
    """A note on the ticket of each open incident whose reminder is due; the next one is set
    by the rule's repeat interval as it is now."""
    from thirdway.monitoring.services import monitoring_actor, rule_of

    due = Incident.objects.filter(status=AlertStatus.OPEN, next_reminder_at__lte=now).values_list(
        "pk", flat=True
    )
    done = 0
    for pk in list(due[:500]):
        try:
            with transaction.atomic():
                incident = (
                    Incident.objects.select_for_update(of=("self",))
                    .select_related("client", "ticket")
                    .get(pk=pk)
                )
                if incident.next_reminder_at is None or incident.next_reminder_at > now:
                    continue
                rule = rule_of(incident.client)
                incident.next_reminder_at = _reminder_after(rule, now)
                alerts = list(open_alerts(incident))
                if not alerts:  # its checks were deleted: nothing left to remind of
                    incident.status, incident.resolved_at = AlertStatus.RESOLVED, now
                    incident.next_reminder_at = None
                    incident.save(update_fields=["status", "resolved_at", "next_reminder_at"])
                    continue
                ticket = _live(incident.ticket)
                if alerts and ticket is not None and ticket.status in OPEN:
                    since = now - incident.opened_at
                    hours = since.total_seconds() / 3600
                    text = (
                        f"Reminder: {len(alerts)} alert(s) still open after {hours:.1f} h: "
                        f"{names(alerts)}."
                    )
                    tickets.note(monitoring_actor(), ticket, body_text=text, source=Source.SYSTEM)
                    incident.reminders += 1
                    done += 1
                incident.save(update_fields=["next_reminder_at", "reminders"])
        except Exception:  # one incident never stops the reminders of the others
            logger.exception("The reminder of incident %s could not be written.", pk)
    return done
