"""A done step whose ticket is set back to an open status from the desk (or the tickets API) is
reopened: rework, counted per version in the metrics and shown on the metrics and improvement
pages; the ticket of a step not applicable cannot be reopened so."""

from __future__ import annotations

from support.api import API, assert_refused, send
from thirdway.playbooks import metrics, services
from thirdway.playbooks.models import StepReopen
from thirdway.tickets.lifecycle import Status

from .branchy import CLI, REMOTE, book, complete, step

STEPS = [
    {"title": "Patch the firewall", "evidence": "text"},
    {"title": "Check the switches"},
]


def _status(api, ticket, status, reason="Not fixed after all"):
    body = {"status": status, "reason": reason}
    return send(api, "post", f"{API}/tickets/{ticket.pk}/status", body)


def test_reopening_a_done_steps_ticket_reopens_the_step_and_counts_as_rework(cast, api_as):
    made = book(cast, STEPS)
    run = services.start_run(cast.partner, made, cast.acme, source=CLI)
    complete(cast.partner, run, 1, "Patched to 7.2")
    ticket = step(run, 1).ticket
    assert ticket.status == Status.RESOLVED
    answer = _status(api_as(cast.partner), ticket, "in_progress")
    assert answer.status_code == 200, answer.content
    again = step(run, 1)
    assert again.completed_at is None and again.evidence == ""
    assert again.ticket.status == Status.IN_PROGRESS
    reopen = StepReopen.objects.get(run_step=again)
    assert reopen.from_ticket and reopen.by == cast.partner
    assert ticket.number in reopen.reason
    assert any("Reopened step 1" in e.text for e in services.timeline(run))
    version = metrics.load(made)[0]
    assert (version.version, version.reopens, version.ticket_reopens) == (1, 1, 1)
    assert (version.steps[0].reopens, version.steps[0].runs_reworked) == (1, 1)
    complete(cast.partner, run, 1, "Patched to 7.4")
    assert step(run, 1).completed_at is not None


def test_reopening_the_ticket_of_the_last_step_opens_the_completed_run_again(cast, api_as):
    run = services.start_run(cast.partner, book(cast, STEPS), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "Patched")
    complete(cast.partner, run, 2)
    run.refresh_from_db()
    assert run.completed_at is not None and run.ticket.status == Status.RESOLVED
    answer = _status(api_as(cast.desk), step(run, 2).ticket, "in_progress")
    assert answer.status_code == 200, answer.content
    run.refresh_from_db()
    run.ticket.refresh_from_db()
    assert run.completed_at is None and run.ticket.status == Status.IN_PROGRESS
    assert step(run, 2).completed_at is None


def test_a_reopening_on_the_runs_page_is_not_counted_as_from_the_desk(cast):
    made = book(cast, STEPS)
    run = services.start_run(cast.partner, made, cast.acme, source=CLI)
    complete(cast.partner, run, 1, "Patched")
    services.reopen_step(cast.partner, step(run, 1), reason="Wrong build", source=CLI)
    version = metrics.load(made)[0]
    assert (version.reopens, version.ticket_reopens) == (1, 0)
    assert step(run, 1).ticket.status == Status.IN_PROGRESS


def test_the_ticket_of_a_step_not_applicable_cannot_be_reopened(cast, api_as):
    run = services.start_run(cast.partner, book(cast, REMOTE), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "no")
    vpn = step(run, 2)
    assert vpn.ticket.status == Status.CLOSED
    errors = assert_refused(_status(api_as(cast.partner), vpn.ticket, "in_progress"), "status")
    assert "not applicable" in str(errors)
    vpn = step(run, 2)
    assert vpn.ticket.status == Status.CLOSED and vpn.not_applicable_at is not None
    assert not StepReopen.objects.exists()


def test_the_metrics_and_improvement_pages_show_reopenings_from_the_desk(cast, api_as, web_as):
    made = book(cast, STEPS)
    run = services.start_run(cast.partner, made, cast.acme, source=CLI)
    complete(cast.partner, run, 1, "Patched")
    api = api_as(cast.partner)
    assert _status(api, step(run, 1).ticket, "in_progress").status_code == 200
    services.update_step(cast.admin, made, 2, {"title": "Check the switches"}, source=CLI)
    services.publish(cast.admin, made, source=CLI)
    web = web_as(cast.partner)
    detail = web.get(f"/playbooks/{made.pk}/").content.decode()
    assert "(1 from the desk)" in detail
    page = web.get(f"/playbooks/{made.pk}/improvement/?before=1&after=2")
    assert page.status_code == 200
    assert "Steps reopened from the desk" in page.content.decode()
    shown = send(api, "get", f"{API}/playbooks/{made.pk}/metrics?version=1")
    assert shown.json()["versions"][0]["ticket_reopens"] == 1
