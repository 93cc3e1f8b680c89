"""Starting a run writes its steps' links in one go (the same timeline events and audit
records as one by one), and dispatches only the steps that can be worked: a step held by a
blocking step before it is dispatched when that step is done."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from thirdway.audit.models import AuditRecord
from thirdway.playbooks import services
from thirdway.tickets import services as tickets
from thirdway.tickets.models import ArticleKind, LinkKind, TicketLink
from thirdway.tickets.tasks import dispatch_new_ticket

from .branchy import CLI, book, complete, step

HELD = [
    {"title": "Discovery"},
    {"title": "Contract signed", "blocking": True},
    {"title": "Deploy agents"},
    {"title": "Verify backups"},
]


def _dispatched() -> set[int]:
    rows = DBTaskResult.objects.filter(task_path=dispatch_new_ticket.module_path)
    return {row.args_kwargs["args"][0] for row in rows}


@pytest.fixture
def dispatching(cast, django_capture_on_commit_callbacks):
    cast.security.auto_dispatch = True
    cast.security.save(update_fields=["auto_dispatch"])

    def within(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return within


def test_steps_after_an_open_blocking_step_are_dispatched_when_it_is_done(cast, dispatching):
    made = book(cast, HELD)
    run = dispatching(lambda: services.start_run(cast.partner, made, cast.acme, source=CLI))
    ticket = {n: step(run, n).ticket.pk for n in range(1, 5)}
    assert _dispatched() == {run.ticket_id, ticket[1], ticket[2]}
    assert [step(run, n).dispatched for n in range(1, 5)] == [True, True, False, False]
    dispatching(lambda: complete(cast.partner, run, 1))
    assert ticket[3] not in _dispatched()
    dispatching(lambda: complete(cast.partner, run, 2))
    assert {ticket[3], ticket[4]} <= _dispatched()
    assert [step(run, n).dispatched for n in range(1, 5)] == [True] * 4
    count = len(DBTaskResult.objects.filter(task_path=dispatch_new_ticket.module_path))
    dispatching(lambda: complete(cast.partner, run, 3))
    assert DBTaskResult.objects.filter(task_path=dispatch_new_ticket.module_path).count() == count


def test_a_run_without_blocking_steps_dispatches_every_step_at_once(cast, dispatching):
    made = book(cast, [{"title": "One"}, {"title": "Two"}])
    run = dispatching(lambda: services.start_run(cast.partner, made, cast.acme, source=CLI))
    assert _dispatched() == {run.ticket_id, step(run, 1).ticket_id, step(run, 2).ticket_id}


def test_the_links_of_a_run_carry_their_events_and_audit_records(cast):
    run = services.start_run(cast.partner, book(cast, HELD), cast.acme, source=CLI)
    children = [step(run, n).ticket for n in range(1, 5)]
    links = TicketLink.objects.filter(source=run.ticket, kind=LinkKind.PARENT)
    assert {link.target_id for link in links} == {c.pk for c in children}
    events = run.ticket.articles.filter(kind=ArticleKind.EVENT, event="linked")
    assert sorted(e.body_text for e in events) == sorted(
        f"Now parent of {c.number}." for c in children
    )
    audit = AuditRecord.objects.filter(action="ticket.link", object_id=str(run.ticket_id))
    assert audit.count() == 4
    assert AuditRecord.objects.filter(action="playbook.run_start").count() == 1


def test_linking_children_refuses_a_cycle_and_skips_links_already_there(cast):
    run = services.start_run(cast.partner, book(cast, HELD), cast.acme, source=CLI)
    first = step(run, 1).ticket
    again = tickets.link_children(cast.partner, run.ticket, [first], source=CLI)
    assert again == 0
    with pytest.raises(Exception) as refused:
        tickets.link_children(cast.partner, first, [run.ticket], source=CLI)
    assert "already above" in str(refused.value)
    assert not TicketLink.objects.filter(source=first).exists()
