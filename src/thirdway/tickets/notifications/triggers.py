"""Who is told what, for each act of the ticket services that concerns someone: called by
those services in their transaction (assignment, hand-over and take-back, a client's reply,
a note's mentions, an SLA escalation step)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q

from thirdway.tickets.notifications.models import Notification, NotificationKind
from thirdway.tickets.notifications.services import mentioned_names, notify, notify_all

SNIPPET = 160


def _snippet(text: str) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _by(actor) -> str:
    if actor is None:
        return "the desk's automation"
    return actor.get_full_name() or actor.get_username()


def assigned(actor, ticket, before, partner, notice: str, reason: str = "") -> None:
    """The new assignee hears of it (not when they took it themselves); on a take-back, the
    deputy it was taken from hears of it too."""
    subject = f"{ticket.number} {ticket.subject}"
    newcomer = partner.user if partner is not None and partner.user_id else None
    if newcomer is not None and (actor is None or newcomer.pk != actor.pk):
        if notice == NotificationKind.HANDED_OVER:
            text = f"Handed to you: {subject}. {reason}"
        else:
            text = f"Assigned to you by {_by(actor)}: {subject}. {reason}"
        kind = notice if notice == NotificationKind.HANDED_OVER else NotificationKind.ASSIGNED
        notify(newcomer, kind, ticket, text)
    if notice == NotificationKind.TAKEN_BACK and before is not None and before.user_id:
        deputy = before.user
        if actor is None or deputy.pk != actor.pk:
            who = partner.name if partner is not None else "Its owner"
            notify(deputy, NotificationKind.TAKEN_BACK, ticket, f"{who} took back {subject}.")


def client_replied(ticket, article) -> list[Notification]:
    """The assignee and the network's watchers hear of a client's reply."""
    people = list(ticket.watchers.filter(is_active=True))
    assignee = ticket.assignee
    if assignee is not None and assignee.user_id:
        people.insert(0, assignee.user)
    who = article.author_label or "The client"
    text = f"{who} replied on {ticket.number}: {_snippet(article.body_text)}"
    return notify_all(people, NotificationKind.CLIENT_REPLIED, ticket, text)


def mentioned(actor, ticket, article) -> list[Notification]:
    """Each ``@username`` of the network named in an internal note (not its author)."""
    names = mentioned_names(article.body_text)
    if not names:
        return []
    named = Q(pk__in=[])
    for name in names:
        named |= Q(username__iexact=name)
    users = get_user_model().objects.filter(named, is_active=True)
    people = [user for user in users if actor is None or user.pk != actor.pk]
    text = f"{_by(actor)} mentioned you on {ticket.number}: {_snippet(article.body_text)}"
    return notify_all(people, NotificationKind.MENTIONED, ticket, text)


def sla_step(partner, ticket, breached: bool, text: str) -> bool:
    """An escalation step warns a partner (the assignee or the practice lead); False when they
    have no account or may not see the ticket."""
    if partner is None or not partner.user_id:
        return False
    kind = NotificationKind.SLA_BREACH if breached else NotificationKind.SLA_WARNING
    return (
        notify(partner.user, kind, ticket, f"{ticket.number} {ticket.subject}: {text}") is not None
    )
