"""API of the service desk: tickets, their timeline and files, search, and webhooks.

Who sees what is ``Ticket.objects.for_user`` (and the article and attachment rules built on
it): a ticket, article or attachment the caller cannot see is a 404, as if it did not exist.
An id in a payload that is unknown, not visible or of another client is a 400 naming the field.
Every POST takes an ``Idempotency-Key`` header (see ``thirdway.tickets.idempotency``).
"""
