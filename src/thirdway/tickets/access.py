"""Who sees which tickets, articles and attachments (deny by default).

- Practice admins and the desk see every ticket.
- A partner sees tickets of the clients they lead or serve, tickets assigned to them, and
  unassigned tickets in the practices they have a skill in (so they can pick them up).
- An associate sees only the tickets assigned to them.
- A client admin sees their organisation's tickets; a client user the tickets they requested
  or watch.
- Client contacts never see internal notes, nor attachments on them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from thirdway.accounts.models import Role

SEES_ALL = {Role.PRACTICE_ADMIN, Role.DESK}


def ticket_rule(user, prefix: str = "") -> Q | None:
    """The tickets ``user`` may see as a filter (None: all, an empty Q-in: none)."""
    nothing = Q(**{f"{prefix}pk__in": []})
    if not (user.is_authenticated and user.is_active):
        return nothing
    role = user.role

    def q(**lookups) -> Q:
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    if role in SEES_ALL:
        return None
    if role == Role.PARTNER:
        return (
            q(client__lead_partner__user=user)
            | q(client__team__user=user)
            | q(assignee__user=user)
            | (q(assignee__isnull=True) & q(practice__skills__partner__user=user))
        )
    if role == Role.ASSOCIATE:
        return q(assignee__user=user)
    contact = getattr(user, "contact", None)
    if contact is None or not contact.is_active:
        return nothing
    if role == Role.CLIENT_ADMIN:
        return q(client_id=contact.client_id)
    if role == Role.CLIENT_USER:
        return q(client_id=contact.client_id) & (q(requester_id=contact.pk) | q(watchers=user))
    return nothing


class TicketQuerySet(models.QuerySet):
    def for_user(self, user) -> TicketQuerySet:
        rule = ticket_rule(user)
        if rule is None:
            return self.all()
        # A sub-select keeps joins through to-many relations from duplicating rows.
        return self.filter(pk__in=self.model.objects.filter(rule).values("pk"))


class ArticleQuerySet(models.QuerySet):
    def for_user(self, user) -> ArticleQuerySet:
        from thirdway.tickets.models import Ticket

        visible = self.filter(ticket__in=Ticket.objects.for_user(user))
        if user.is_authenticated and user.is_network_staff:
            return visible
        return visible.filter(kind="reply")


class AttachmentQuerySet(models.QuerySet):
    def for_user(self, user) -> AttachmentQuerySet:
        from thirdway.tickets.models import Article

        return self.filter(article__in=Article.objects.for_user(user))


def can_work_on(user, ticket) -> bool:
    """Reply, note, assign, change status and priority: the network, on tickets they see."""
    return user.is_authenticated and user.is_network_staff


def is_contact_of(user, client_id: int) -> bool:
    contact = getattr(user, "contact", None)
    return (
        user.is_authenticated
        and user.is_client_contact
        and contact is not None
        and contact.is_active
        and contact.client_id == client_id
    )


def can_reply_as_client(user, ticket) -> bool:
    return is_contact_of(user, ticket.client_id)
