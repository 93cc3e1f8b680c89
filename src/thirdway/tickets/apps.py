from django.apps import AppConfig


def _queue_arrival_dispatch(event: str, ticket, article) -> None:
    """A new ticket of a practice dispatched automatically gets its partner after commit
    (``tickets/assignment/dispatching.py``; imported by the task, so starting a process stays
    light)."""
    if event != "ticket.created" or ticket.assignee_id is not None or ticket.practice_id is None:
        return
    if not ticket.practice.auto_dispatch:
        return
    from django.db import transaction

    from thirdway.tickets.tasks import dispatch_new_ticket

    transaction.on_commit(lambda pk=ticket.pk: dispatch_new_ticket.enqueue(pk))


class TicketsConfig(AppConfig):
    name = "thirdway.tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from thirdway import configcache
        from thirdway.tickets.models import Webhook
        from thirdway.tickets.webhooks import events

        events.listen(_queue_arrival_dispatch)
        configcache.watch(Webhook)
