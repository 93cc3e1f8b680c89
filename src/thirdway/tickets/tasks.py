"""Background work of the service desk: the SLA sweep, dispatch, and forgetting old answers
to idempotent requests.  Webhook deliveries are sent by ``tickets/webhooks/tasks.py``."""

from __future__ import annotations

from django_tasks import task

# Tasks queued before the webhook deliveries moved are stored under this module's path.
from thirdway.tickets.webhooks.tasks import deliver_webhook, retry_due_webhooks

__all__ = [
    "deliver_webhook",
    "dispatch_new_ticket",
    "evaluate_sla_clocks",
    "forget_old_idempotency_answers",
    "partner_came_free",
    "release_surge_holds",
    "reoptimise_dispatch_queue",
    "retry_due_webhooks",
]


@task()
def forget_old_idempotency_answers() -> int:
    from thirdway.tickets.idempotency import forget_old_answers

    return forget_old_answers()


@task()
def evaluate_sla_clocks() -> dict:
    """The SLA sweep: hand over the tickets of partners now away, then evaluate the clocks of
    the open tickets whose next check has come and fire due escalations (see
    ``thirdway.tickets.sla_clocks.escalation``)."""
    from thirdway.tickets.assignment.continuity import hand_over_absences
    from thirdway.tickets.sla_clocks.escalation import sweep

    handed = hand_over_absences()
    report = sweep()
    return {
        "handed_over": handed,
        "tickets": report.tickets,
        "due": report.due,
        "left": report.left,
        "moved": report.moved,
        "fired": report.fired,
        "failed": report.failed,
    }


@task()
def dispatch_new_ticket(ticket_id: int) -> None:
    """Give a new ticket to the partner the dispatcher ranks first (see
    tickets/assignment/dispatching)."""
    from thirdway.tickets.assignment import dispatching

    dispatching.dispatch_on_arrival(ticket_id)


@task()
def partner_came_free(partner_id: int, trigger: str, key: str) -> str:
    """A partner whose ticket was resolved or closed may take or be offered their next one
    (``tickets/assignment/coming_free``); a re-run of the same event does nothing."""
    from thirdway.tickets.assignment import coming_free

    claim = coming_free.came_free(partner_id, trigger, key)
    return claim.outcome if claim is not None else ""


@task()
def reoptimise_dispatch_queue() -> dict:
    """Assign the waiting queue of automatically dispatched practices jointly, then move the
    urgent tickets nobody has started whose partner cannot take them now (``move_late``).
    First, offers of work beyond a partner's limits left unanswered too long lapse, and their
    tickets are dispatched again without that partner; then a waiting P1 nobody can start in
    time interrupts running routine work where its practice allows it (``preemption``). Last,
    partners whose shift started or who came back are offered or given their next ticket
    where the practice says so (``coming_free``)."""
    from thirdway.tickets.assignment import coming_free, dispatching, offers, preemption

    expired = {"offers_expired": offers.expire_offers()}
    preempted = preemption.preempt_waiting()
    planned = dispatching.reoptimise_queue() | dispatching.move_late()
    return expired | preempted | planned | coming_free.sweep()


@task()
def release_surge_holds() -> dict:
    """Release the tickets held while their skill was in surge, in arrival order, for every
    skill no longer in surge, and dispatch them (``tickets/assignment/surge``)."""
    from thirdway.tickets.assignment import surge

    return surge.release()
