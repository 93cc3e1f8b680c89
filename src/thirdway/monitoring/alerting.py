"""The engine's actions carried out: alerts, and the tickets they open, note on and resolve.

A ticket is opened through the tickets room's services, as the monitoring account, so the
client's SLA clock starts and dispatch runs as for any ticket.  Its priority and category come
from the check's alert rule, else the client's (``AlertRule``).  While the alert is open, a
change of severity, flapping and what happens while flapping are notes on the same ticket;
repeats are counted on the alert.  Recovery resolves the ticket, unless a person worked it
(replied, or changed its status): then a note says it recovered and people decide.  Alerts
grouped into one incident (:mod:`thirdway.monitoring.incidents`) share its ticket, which is
resolved when the last of them recovers.  Each opening, change of severity and recovery is
announced to the webhooks that want alert events (``alert.opened``, ``alert.updated``,
``alert.resolved``), recorded in the same transaction and sent by the worker after commit.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from thirdway.audit.models import Source
from thirdway.monitoring import engine, incidents
from thirdway.monitoring.models import (
    Alert,
    AlertRule,
    AlertStatus,
    Check,
    CheckEvent,
    EventKind,
    Incident,
)
from thirdway.tickets import services as tickets
from thirdway.tickets.lifecycle import OPEN, Status, priority_for
from thirdway.tickets.models import ArticleKind, Channel, Ticket
from thirdway.tickets.webhooks import events as webhook_events

logger = logging.getLogger(__name__)
SEVERITY_WORDS = {"warning": "Warning", "critical": "Down", "unknown": "Unknown", "ok": "Up"}


def carry_out(check: Check, actions: tuple[engine.Action, ...]) -> None:
    for action in actions:
        HANDLERS[action.do](check, action)


def _open_alert(check: Check) -> Alert | None:
    return Alert.objects.filter(check_obj=check, status=AlertStatus.OPEN).first()


def _event(check: Check, action: engine.Action, kind: str, text: str, alert=None) -> None:
    CheckEvent.objects.create(
        check_obj=check,
        alert=alert,
        at=action.at,
        kind=kind,
        status=action.status.value,
        text=text[:500],
    )


def _announce(event: str, alert: Alert) -> None:
    """Tell the webhooks that want alert events."""
    check = alert.check_obj
    body = {
        "event": event,
        "alert": {
            "id": alert.pk,
            "status": alert.status,
            "severity": alert.severity,
            "summary": alert.summary,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "client_id": alert.client_id,
            "check": {"id": check.pk, "name": check.name, "kind": check.kind},
            "site_id": check.site_id,
            "asset_id": check.asset_id,
            "incident_id": alert.incident_id,
            "ticket_id": alert.ticket_id,
        },
    }
    webhook_events.announce(event, alert.client_id, body)


def _summary(check: Check, status: engine.Status) -> str:
    return f"{SEVERITY_WORDS[status.value]}: {check.name}: {check.last_output}"[:500]


def _open(check: Check, action: engine.Action) -> None:
    from thirdway.monitoring.services import rule_of

    rule = rule_of(check.client)
    alert = Alert(
        check_obj=check,
        client=check.client,
        severity=action.status.value,
        summary=_summary(check, action.status),
        opened_at=action.at,
        last_seen_at=action.at,
    )
    incident, joined = incidents.join_or_open(check, alert, rule)
    live = _live(incident.ticket)
    text = f"Alert opened: {alert.summary}"
    if joined and live is not None:
        alert.ticket = incident.ticket
        alert.save()
        _note(alert, f"Also in this incident: {alert.summary}")
        text += f" (grouped on ticket #{live.pk})"
    elif incident.ticket_due_at is not None:
        # The incident waits out the rule's group wait: its ticket comes with the sweep.
        alert.save()
        text += f" (ticket after the group wait, at {incident.ticket_due_at:%H:%M:%S} UTC)"
    else:
        alert.save()
        if check.opens_tickets:
            alert.ticket = incident.ticket = _open_ticket(check, alert, rule)
            alert.save(update_fields=["ticket"])
            incident.save(update_fields=["ticket"])
    _event(check, action, EventKind.OPEN, text, alert)
    _announce("alert.opened", alert)


def _open_ticket(check: Check, alert: Alert, rule: AlertRule, also=()) -> Ticket:
    from thirdway.monitoring.services import monitoring_actor

    priority = check.alert_priority or rule.priority
    matrix = priority_for(2, 2)
    lines = [
        f"Check: {check.name} ({check.get_kind_display()})",
        f"Target: {check.target or '(heartbeat)'}",
        f"Status: {SEVERITY_WORDS[alert.severity]} since {alert.opened_at:%Y-%m-%d %H:%M} UTC",
        f"Output: {check.last_output or '(none)'}",
    ]
    lines += [f"Also in this incident: {other.summary}" for other in also]
    body = "\n".join(lines)
    return tickets.create_ticket(
        monitoring_actor(),
        check.client,
        subject=alert.summary[:250],
        body_text=body,
        site_id=check.site_id,
        asset_id=check.asset_id,
        practice_id=rule.practice_id,
        category=check.alert_category or rule.category,
        priority=priority,
        priority_reason="" if priority == matrix else "Set by the monitoring alert rule.",
        channel=Channel.MONITORING,
        source=Source.SYSTEM,
    )


def _live(ticket: Ticket | None) -> Ticket | None:
    """The ticket followed through merges; None when there is none."""
    seen = 0
    while ticket is not None and ticket.merged_into_id is not None and seen < 10:
        ticket = ticket.merged_into
        seen += 1
    return ticket


def _live_ticket(alert: Alert) -> Ticket | None:
    """The alert's ticket, followed through merges; None when it has none."""
    return _live(alert.ticket)


def _note(alert: Alert, text: str) -> None:
    from thirdway.monitoring.services import monitoring_actor

    ticket = _live_ticket(alert)
    if ticket is not None:
        tickets.note(monitoring_actor(), ticket, body_text=text, source=Source.SYSTEM)


def say_on_open_ticket(check: Check, text: str) -> None:
    """A note on the ticket of the check's open alert, if it is still open."""
    alert = _open_alert(check)
    ticket = _live_ticket(alert) if alert is not None else None
    if ticket is not None and ticket.status in OPEN:
        _note(alert, text)


def _update(check: Check, action: engine.Action) -> None:
    alert = _open_alert(check)
    if alert is None:
        return
    alert.severity = action.status.value
    alert.summary = _summary(check, action.status)
    alert.last_seen_at = action.at
    alert.save(update_fields=["severity", "summary", "last_seen_at"])
    _note(alert, f"Now {SEVERITY_WORDS[action.status.value].lower()}: {check.last_output}")
    _event(check, action, EventKind.UPDATE, f"Alert updated: {alert.summary}", alert)
    _announce("alert.updated", alert)


def _repeat(check: Check, action: engine.Action) -> None:
    Alert.objects.filter(check_obj=check, status=AlertStatus.OPEN).update(
        repeats=F("repeats") + 1, last_seen_at=action.at
    )


def _note_action(check: Check, action: engine.Action) -> None:
    alert = _open_alert(check)
    if alert is None:
        return
    _note(alert, action.reason)
    _event(check, action, EventKind.NOTE, action.reason, alert)


def worked_by_a_person(ticket: Ticket) -> bool:
    """Someone other than monitoring replied on the ticket or changed its status."""
    from thirdway.monitoring.services import monitoring_actor

    people = ticket.articles.exclude(author__isnull=True).exclude(author=monitoring_actor())
    replied = people.filter(kind=ArticleKind.REPLY).exists()
    moved = people.filter(kind=ArticleKind.EVENT, event="status").exists()
    return replied or moved


def _recover(check: Check, action: engine.Action) -> None:
    from thirdway.monitoring.services import monitoring_actor

    alert = _open_alert(check)
    if alert is None:
        return
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = action.at
    alert.save(update_fields=["status", "resolved_at"])
    _announce("alert.resolved", alert)
    ticket = _live_ticket(alert)
    text = f"Recovered at {action.at:%Y-%m-%d %H:%M} UTC: {check.last_output}"
    others = incidents.still_open_after_recovery(alert, action.at)
    if others:
        # The incident's ticket waits for every alert of it to recover.
        waiting = f" Still open in this incident: {incidents.names(others)}."
        if ticket is not None and ticket.status in OPEN:
            _note(alert, f"{check.name}: {text}{waiting}")
        _event(check, action, EventKind.RECOVER, text + waiting, alert)
        return
    if ticket is not None and ticket.status in OPEN:
        if worked_by_a_person(ticket):
            _note(alert, text + " The ticket stays as it is: someone is working on it.")
        else:
            tickets.change_status(
                monitoring_actor(),
                ticket,
                Status.RESOLVED,
                reason="The check recovered.",
                source=Source.SYSTEM,
            )
    _event(check, action, EventKind.RECOVER, text, alert)


def open_waited_tickets(now) -> int:
    """Open the ticket of each incident whose group wait has passed, with every alert that
    joined it meanwhile; an incident whose alerts all recovered meanwhile opens none."""
    from thirdway.monitoring.services import rule_of

    due = Incident.objects.filter(
        status=AlertStatus.OPEN, ticket__isnull=True, ticket_due_at__lte=now
    ).values_list("pk", flat=True)
    opened = 0
    for pk in list(due[:200]):
        try:
            with transaction.atomic():
                incident = Incident.objects.select_for_update().get(pk=pk)
                if incident.ticket_id is not None or incident.ticket_due_at is None:
                    continue
                incident.ticket_due_at = None
                alerts = list(incidents.open_alerts(incident).select_related("check_obj__client"))
                first = next((a for a in alerts if a.check_obj.opens_tickets), None)
                if first is not None and incident.status == AlertStatus.OPEN:
                    check = first.check_obj
                    others = [alert for alert in alerts if alert.pk != first.pk]
                    rule = rule_of(check.client)
                    incident.ticket = _open_ticket(check, first, rule, also=others)
                    incident.alerts.update(ticket=incident.ticket)
                    opened += 1
                incident.save(update_fields=["ticket", "ticket_due_at"])
        except Exception:  # one incident never stops the others'
            logger.exception("The ticket of incident %s could not be opened.", pk)
    return opened


def _suppress(check: Check, action: engine.Action) -> None:
    _event(check, action, EventKind.SUPPRESS, f"No alert: {action.reason}.")


HANDLERS = {
    engine.Do.OPEN: _open,
    engine.Do.UPDATE: _update,
    engine.Do.REPEAT: _repeat,
    engine.Do.NOTE: _note_action,
    engine.Do.RECOVER: _recover,
    engine.Do.SUPPRESS: _suppress,
}
