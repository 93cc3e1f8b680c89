"""Tickets and other objects named in a request, as the caller may see them."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from thirdway.clients.models import Client
from thirdway.tickets.models import Article, Ticket


def _invalid(field: str, message: str, allowed: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, params={"allowed": allowed})})


def _visible(user, model, field: str, object_id, client: Client | None = None):
    """An object named by id in a payload: one the caller sees (of ``client`` when given)."""
    if object_id is None:
        return None
    found = model.objects.for_user(user).filter(pk=object_id)
    if client is not None:
        found = found.filter(client=client)
    found = found.first()
    if found is None:
        noun = model._meta.verbose_name
        where = f" at {client.name}" if client is not None else ""
        raise _invalid(
            field,
            f"No {noun} with id {object_id}{where}.",
            f"the id of a {noun}{where} you can see",
        )
    return found


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
    found = Ticket.objects.for_user(request.auth).filter(pk=ticket_id).first()
    if found is None:
        raise _invalid(field, f"No ticket with id {ticket_id}.", "the id of a ticket you can see")
    return found
