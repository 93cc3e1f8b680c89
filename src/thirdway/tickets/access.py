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


def ticket_rule(user) -> Q | None:
    """The tickets ``user`` may see, as a filter on the ticket table's own columns.

    None means all tickets.  The partner's clients, id and practices are looked up first (small
    sets), so the filter needs no join and each branch can use its own index.
    """
    branches = ticket_rule_branches(user)
    if branches is None:
        return None
    if not branches:
        return Q(pk__in=[])
    rule = branches[0]
    for branch in branches[1:]:
        rule |= branch
    return rule


def ticket_rule_branches(user) -> list[Q] | None:
    """``ticket_rule`` as the filters it ORs together (none: nothing; None: all tickets).

    Long lists ask each branch for its own first rows (see ``TicketQuerySet.branches_for_user``):
    one ordered query per branch can walk its own index, where the OR of them leaves the
    database guessing how many rows match and often reading most of the table.
    """
    if not (user.is_authenticated and user.is_active):
        return []
    role = user.role
    if role in SEES_ALL:
        return None
    if role in (Role.PARTNER, Role.ASSOCIATE):
        return _network_branches(user, role)
    contact = getattr(user, "contact", None)
    if contact is None or not contact.is_active:
        return []
    if role == Role.CLIENT_ADMIN:
        return [Q(client_id=contact.client_id)]
    if role == Role.CLIENT_USER:
        from thirdway.tickets.models import Ticket

        watched = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
        return [Q(client_id=contact.client_id) & (Q(requester_id=contact.pk) | Q(pk__in=watched))]
    return []


def _network_branches(user, role: str) -> list[Q]:
    from thirdway.clients.models import Client
    from thirdway.network.models import Partner, Skill

    partner_id = Partner.objects.filter(user=user).values_list("pk", flat=True).first()
    if partner_id is None:
        return []
    branches = [Q(assignee_id=partner_id)]
    if role == Role.ASSOCIATE:
        return branches
    # A UNION of the two indexed look-ups (an OR across the team join reads every client).
    led = Client.objects.filter(lead_partner_id=partner_id).order_by()
    served = Client.team.through.objects.filter(partner_id=partner_id).order_by()
    clients = set(
        led.values_list("pk", flat=True).union(served.values_list("client_id", flat=True))
    )
    practices = list(
        Skill.objects.filter(partner_id=partner_id).values_list("practice_id", flat=True)
    )
    if clients:
        branches.append(Q(client_id__in=sorted(clients)))
    if practices:
        branches.append(Q(assignee__isnull=True, practice_id__in=sorted(practices)))
    return branches


class TicketQuerySet(models.QuerySet):
    def for_user(self, user) -> TicketQuerySet:
        rule = ticket_rule(user)
        return self.all() if rule is None else self.filter(rule)

    def branches_for_user(self, user) -> list[TicketQuerySet]:
        """``for_user`` as querysets whose union it is (one per branch of the rule)."""
        branches = ticket_rule_branches(user)
        return [self.all()] if branches is None else [self.filter(b) for b in branches]


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


class CannedReplyQuerySet(models.QuerySet):
    def for_user(self, user) -> CannedReplyQuerySet:
        """The network sees the shared replies and their own; nobody sees another's own."""
        if not (user.is_authenticated and user.is_network_staff):
            return self.none()
        return self.filter(Q(owner__isnull=True) | Q(owner=user))


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
