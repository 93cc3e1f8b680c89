"""A new ticket of a practice dispatched automatically is given its partner after commit.

Called by the services that open tickets (opening, splitting). A ticket that repeats an open
incident is linked under it instead, where its practice links incidents. The work itself is
the worker's (``tickets/assignment/dispatching.py``, through the ``dispatch_new_ticket``
task), imported only here when needed so that starting a process stays light.
"""

from __future__ import annotations

from django.db import transaction

from thirdway.tickets.models import Ticket


def dispatch_when_committed(ticket: Ticket, *, link: bool = True) -> None:
    """``link``: first see whether the ticket repeats an open incident of a practice that
    links them (``incidents``); a linked ticket is not dispatched, its incident is."""
    if ticket.assignee_id is not None or ticket.practice_id is None:
        return
    if link:
        from thirdway.tickets.assignment import incidents

        if incidents.link_on_arrival(ticket) is not None:
            return
    if not ticket.practice.auto_dispatch:
        return
    from thirdway.tickets.tasks import dispatch_new_ticket

    transaction.on_commit(lambda pk=ticket.pk: dispatch_new_ticket.enqueue(pk))
