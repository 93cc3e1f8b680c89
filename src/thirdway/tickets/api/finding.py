"""Tickets and other objects named in a request, as the caller may see them."""

from django.shortcuts import get_object_or_404

from thirdway.access import find_visible
from thirdway.tickets.models import Article, Ticket


def _tickets(user):
    return (
        Ticket.objects.for_user(user)
        .select_related("client", "requester", "assignee")
        .prefetch_related("tags")
    )


def _ticket(request, ticket_id: int) -> Ticket:
    return get_object_or_404(_tickets(request.auth), pk=ticket_id)


def _fresh(ticket_id: int) -> Ticket:
    """A ticket as it is now, after a change the caller made (who may no longer see it)."""
    return (
        Ticket.objects.select_related("client", "requester", "assignee")
        .prefetch_related("tags")
        .get(pk=ticket_id)
    )


def _fresh_article(article_id: int) -> Article:
    return Article.objects.prefetch_related("attachments").get(pk=article_id)


def _other_ticket(request, field: str, ticket_id: int) -> Ticket:
    """A ticket named in a payload: one the caller sees, or a 400 naming the field."""
    return find_visible(Ticket.objects.for_user(request.auth), field, ticket_id)
