"""Assignment, status, priority, descriptive fields, watchers and bulk changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.models import Asset, Contact, Site
from thirdway.errors import invalid
from thirdway.network.models import Partner
from thirdway.tickets import lifecycle
from thirdway.tickets.access import can_reply_as_client, can_work_on
from thirdway.tickets.assignment import coming_free, incidents
from thirdway.tickets.bodies import clean_line
from thirdway.tickets.lifecycle import OPEN, Status, TransitionRefused
from thirdway.tickets.models import (
    DispatchKind,
    DispatchRecord,
    LinkKind,
    Ticket,
)
from thirdway.tickets.notifications import triggers
from thirdway.tickets.notifications.models import NotificationKind
from thirdway.tickets.search import refresh_search_text
from thirdway.tickets.services._shared import (
    TICKET_FIELDS,
    _event,
    _lock,
    _owned,
    _priority_from,
    _refuse_merged,
    _require_worker,
    _scope,
    _tags,
    resolve_practice,
)
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.webhooks import events


@transaction.atomic
def assign(
    actor,
    ticket: Ticket,
    partner: Partner | None,
    *,
    reason: str = "",
    source: str,
    notice: str = NotificationKind.ASSIGNED,
) -> Ticket:
    """Give the ticket to a partner (None: back to the queue).

    The new assignee is notified (``notice``: an assignment, or a hand-over while someone is
    away); on a take-back, the deputy it is taken from too.
    """
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    before = ticket.assignee
    if before == partner:
        return ticket
    ticket.assignee = partner
    if partner is not None and ticket.status == Status.NEW:
        ticket.status = Status.ASSIGNED
    if partner is None and ticket.status == Status.ASSIGNED:
        ticket.status = Status.NEW
    if partner is not None:
        ticket.unassignable_reason = ""
    ticket.save(update_fields=["assignee", "status", "unassignable_reason", "updated_at"])
    if actor is not None:
        _record_override(actor, ticket, partner, reason)
    text = f"Assigned to {partner}." if partner else "Returned to the queue."
    _event(
        ticket,
        actor,
        "assigned",
        text + (f" {reason}" if reason else ""),
        {"from": before.pk if before else None, "to": partner.pk if partner else None},
    )
    record(
        actor,
        "ticket.assign",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"assignee": [before.pk if before else None, partner.pk if partner else None]},
    )
    if partner is not None:
        from thirdway.tickets.assignment import surge

        surge.taken(actor, ticket, source=source)
    triggers.assigned(actor, ticket, before, partner, notice, reason)
    events.emit("ticket.assigned", ticket)
    return ticket


def _record_override(actor, ticket: Ticket, partner: Partner | None, reason: str) -> None:
    """A person giving the ticket to someone the dispatcher did not choose is recorded, with
    their reason, next to the decision they overrode."""
    last = (
        DispatchRecord.objects.filter(ticket=ticket)
        .exclude(kind=DispatchKind.OVERRIDE)
        .only("partner_id")
        .first()
    )
    if last is None or (partner is not None and last.partner_id == partner.pk):
        return
    DispatchRecord.objects.create(
        ticket=ticket,
        kind=DispatchKind.OVERRIDE,
        partner=partner,
        actor=actor,
        reason=reason or "No reason given.",
        decided_at=timezone.now(),
    )


# Rooms above tickets (playbooks: a step's ticket resolved from the desk completes the step)
# register here at start-up, so tickets imports none of them.  Each is called by
# ``change_status`` in its transaction, after the change: one that raises refuses the change,
# and it rolls back whole.
StatusHook = Callable[[Any, Ticket, str, Status, str], None]
_STATUS_HOOKS: list[StatusHook] = []


def on_status_change(hook: StatusHook) -> None:
    """Call ``hook(actor, ticket, before, target, source)`` after each status change."""
    if hook not in _STATUS_HOOKS:
        _STATUS_HOOKS.append(hook)


@transaction.atomic
def change_status(
    actor, ticket: Ticket, status: str, *, reason: str = "", force: bool = False, source: str
) -> Ticket:
    """Move the ticket along its lifecycle; refused moves list the allowed ones.

    A parent cannot be resolved or closed while a child is open, unless forced with a reason.
    Client contacts may only close their own organisation's tickets.  The rooms registered
    with :func:`on_status_change` are told, and may refuse.  A partner whose ticket is
    resolved or closed may come free (``coming_free``: after commit, in the worker).
    """
    closing_own = can_reply_as_client(actor, ticket) and status == Status.CLOSED
    if not can_work_on(actor, ticket) and not closing_own:
        raise PermissionDenied("You may only close this ticket.")
    ticket = _lock(ticket)
    target = lifecycle.check_transition(ticket.status, status)
    if target in (Status.RESOLVED, Status.CLOSED):
        _check_children(ticket, force, reason)
    before = ticket.status
    _set_status(actor, ticket, target, reason, source)
    for hook in _STATUS_HOOKS:
        hook(actor, ticket, before, target, source)
    coming_free.after_status(ticket, before, target)
    return ticket


def _check_children(ticket: Ticket, force: bool, reason: str) -> None:
    open_children = Ticket.objects.filter(
        links_in__source=ticket, links_in__kind=LinkKind.PARENT, status__in=OPEN
    )
    if not open_children.exists():
        return
    if force and reason.strip():
        return
    numbers = ", ".join(child.number for child in open_children[:10])
    raise invalid(
        "status",
        f"Child tickets are still open: {numbers}.",
        "resolve the children first, or force with a reason",
    )


def _set_status(
    actor,
    ticket: Ticket,
    target: Status,
    reason: str,
    source: str,
    origin: events.Origin | None = None,
) -> Ticket:
    before = ticket.status
    now = timezone.now()
    ticket.status = target
    ticket.resolved_at = (
        now if target == Status.RESOLVED else (None if target in OPEN else ticket.resolved_at)
    )
    ticket.closed_at = (
        now if target == Status.CLOSED else (None if target in OPEN else ticket.closed_at)
    )
    ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
    text = f"Status: {lifecycle.LABELS[Status(before)]} → {lifecycle.LABELS[target]}."
    _event(
        ticket,
        actor,
        "status",
        text + (f" {reason}" if reason else ""),
        {"from": before, "to": target.value},
    )
    _clock_after_status(actor, ticket, before, target, now)
    incidents.parent_moved(ticket, target, source)
    record(
        actor,
        "ticket.status",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"status": [before, target.value]},
    )
    events.emit("ticket.status_changed", ticket, origin=origin)
    return ticket


def _clock_after_status(actor, ticket: Ticket, before: str, target: Status, now) -> None:
    """Pause or resume the SLA clocks, say so on the timeline, and store the new due times."""
    if ticket.sla_policy_id is None:
        return
    happened = clocks.status_changed(ticket, before, target, now)
    if happened == "paused":
        why = clocks.PAUSE_TEXT[target]
        _event(ticket, actor, "sla_paused", f"SLA clocks paused ({why}).", {"reason": target.value})
    elif happened == "resumed":
        _event(ticket, actor, "sla_resumed", "SLA clocks resumed.", {"after": before})
    clocks.refresh(ticket, now)


@transaction.atomic
def change_priority(
    actor,
    ticket: Ticket,
    *,
    priority: int | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    reason: str = "",
    source: str,
) -> Ticket:
    """Set impact/urgency (priority follows the matrix) or override the priority with a reason."""
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    before = snapshot(ticket, ["impact", "urgency", "priority", "priority_reason"])
    ticket.impact = impact or ticket.impact
    ticket.urgency = urgency or ticket.urgency
    matrix = _priority_from(ticket.impact, ticket.urgency)
    wanted = priority or matrix
    if wanted not in (1, 2, 3, 4):
        raise invalid("priority", f"P{wanted} does not exist.", "1, 2, 3 or 4")
    if wanted != matrix and not reason.strip():
        raise invalid(
            "priority_reason",
            "Say why the priority differs from the matrix.",
            f"a reason, or priority {matrix} (impact × urgency)",
        )
    ticket.priority = wanted
    ticket.priority_reason = clean_line(reason) if wanted != matrix else ""
    ticket.save(update_fields=["impact", "urgency", "priority", "priority_reason", "updated_at"])
    clocks.refresh(ticket)
    changes = diff(before, snapshot(ticket, ["impact", "urgency", "priority", "priority_reason"]))
    if changes:
        _event(
            ticket,
            actor,
            "priority",
            f"Priority P{before['priority']} → P{ticket.priority}."
            + (f" {reason}" if reason else ""),
            {"from": before["priority"], "to": ticket.priority},
        )
        record(
            actor, "ticket.priority", ticket, source=source, scope=_scope(ticket), changes=changes
        )
        events.emit("ticket.priority_changed", ticket)
    return ticket


TICKET_UPDATABLE = {
    "subject",
    "category",
    "type",
    "practice",
    "site",
    "asset",
    "requester",
    "needs_onsite",
    "visit_starts_at",
    "visit_ends_at",
    "tags",
}


@transaction.atomic
def update_ticket(actor, ticket: Ticket, data: dict, *, source: str) -> Ticket:
    """Change the descriptive fields (subject, category, practice, site, visit window, tags...)."""
    _require_worker(actor, ticket)
    unknown = set(data) - TICKET_UPDATABLE
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be changed here.",
                    params={"allowed": ", ".join(sorted(TICKET_UPDATABLE))},
                )
                for name in unknown
            }
        )
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    fields = [name for name in TICKET_FIELDS if name in data]
    tag_rows = _tags(actor, data["tags"]) if "tags" in data else []
    before = snapshot(ticket, fields)
    resolvers = {
        "practice": lambda v: resolve_practice(actor, v),
        "site": lambda v: _owned(actor, Site, ticket.client, "site", v),
        "asset": lambda v: _owned(actor, Asset, ticket.client, "asset", v),
        "requester": lambda v: _owned(actor, Contact, ticket.client, "requester", v),
        "subject": clean_line,
        "category": lambda v: clean_line(v, 100),
    }
    for name in fields:
        value = data[name]
        setattr(ticket, name, resolvers[name](value) if name in resolvers else value)
    if "subject" in data and not ticket.subject:
        raise invalid("subject", "A ticket needs a subject.", "1 to 250 characters of text")
    ticket.full_clean()
    ticket.save()
    changes = diff(before, snapshot(ticket, fields))
    if "tags" in data:
        old = sorted(ticket.tags.values_list("name", flat=True))
        ticket.tags.set(tag_rows)
        new = sorted(ticket.tags.values_list("name", flat=True))
        if old != new:
            changes["tags"] = [old, new]
    if changes:
        refresh_search_text(ticket)
        record(actor, "ticket.update", ticket, source=source, scope=_scope(ticket), changes=changes)
        events.emit("ticket.updated", ticket)
    return ticket


@transaction.atomic
def set_watchers(actor, ticket: Ticket, users: list, *, source: str) -> Ticket:
    """Who follows the ticket: active network staff, or people of the ticket's own client."""
    _require_worker(actor, ticket)
    strangers = [user for user in users if not _may_watch(user, ticket)]
    if strangers:
        names = ", ".join(user.get_username() for user in strangers[:5])
        raise invalid(
            "watchers",
            f"Cannot watch {ticket.number}: {names}.",
            "active network staff, or active contacts of the ticket's client",
        )
    before = sorted(ticket.watchers.values_list("pk", flat=True))
    ticket.watchers.set(users)
    after = sorted(user.pk for user in users)
    if before != after:
        record(
            actor,
            "ticket.watchers",
            ticket,
            source=source,
            scope=_scope(ticket),
            changes={"watchers": [before, after]},
        )
    return ticket


def _may_watch(user, ticket: Ticket) -> bool:
    if not user.is_active:
        return False
    if user.is_network_staff:
        return True
    contact = getattr(user, "contact", None)
    return contact is not None and contact.is_active and contact.client_id == ticket.client_id


# --- bulk --------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    updated: list[int]
    refused: dict[int, str]


def bulk_update(
    actor,
    tickets: Iterable[Ticket],
    *,
    status: str | None = None,
    assignee: Partner | None = None,
    unassign: bool = False,
    priority: int | None = None,
    reason: str = "",
    add_tags: Iterable[str] = (),
    source: str,
) -> BulkResult:
    """Apply the same change to many tickets; each succeeds or is refused on its own."""
    result = BulkResult([], {})
    for ticket in tickets:
        try:
            with transaction.atomic():
                _bulk_one(
                    actor, ticket, status, assignee, unassign, priority, reason, add_tags, source
                )
        except (ValidationError, TransitionRefused, PermissionDenied) as error:
            result.refused[ticket.pk] = "; ".join(getattr(error, "messages", [str(error)]))
        else:
            result.updated.append(ticket.pk)
    return result


def _bulk_one(actor, ticket, status, assignee, unassign, priority, reason, add_tags, source):
    if assignee is not None or unassign:
        assign(actor, ticket, assignee, source=source)
    if priority is not None:
        change_priority(actor, ticket, priority=priority, reason=reason, source=source)
    if status is not None:
        change_status(actor, ticket, status, reason=reason, source=source)
    if add_tags:
        current = list(ticket.tags.values_list("name", flat=True))
        update_ticket(actor, ticket, {"tags": [*current, *add_tags]}, source=source)
