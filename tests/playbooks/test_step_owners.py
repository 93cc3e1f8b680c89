"""A step's ticket resolved from the desk completes the step (or is refused when the step asks
for evidence); only a step's owners (or practice admins) complete it; strangers see nothing."""

from __future__ import annotations

from support.api import API, assert_refused, send
from thirdway.playbooks import services
from thirdway.tickets.lifecycle import Status

from .branchy import CLI, book, step

OWNED = [
    {"title": "Call the client", "owner_role": "desk"},
    {"title": "Patch the firewall", "evidence": "text"},
    {"title": "Check the switches"},
]


def _run(cast, steps=OWNED):
    return services.start_run(cast.partner, book(cast, steps), cast.acme, source=CLI)


def _resolve(api, ticket, reason="Done on the phone"):
    body = {"status": "resolved", "reason": reason}
    return send(api, "post", f"{API}/tickets/{ticket.pk}/status", body)


def test_resolving_a_steps_ticket_from_the_desk_completes_the_step(cast, api_as):
    run = _run(cast)
    third = step(run, 3)
    answer = _resolve(api_as(cast.partner), third.ticket)
    assert answer.status_code == 200, answer.content
    done = step(run, 3)
    assert done.completed_at is not None and done.completed_by == cast.partner
    assert any("Completed step 3" in e.text for e in services.timeline(run))


def test_resolving_a_step_that_asks_for_evidence_is_refused_and_nothing_changes(cast, api_as):
    run = _run(cast)
    second = step(run, 2)
    errors = assert_refused(_resolve(api_as(cast.partner), second.ticket), "status")
    assert "needs evidence (text)" in str(errors)
    second = step(run, 2)
    assert second.completed_at is None and second.ticket.status == Status.NEW


def test_the_desk_page_says_why_a_steps_ticket_was_not_resolved(cast, web_as):
    run = _run(cast)
    ticket = step(run, 2).ticket
    page = web_as(cast.partner).post(
        f"/tickets/{ticket.number}/status/",
        {"status": "resolved", "reason": "Patched"},
        follow=True,
    )
    assert "needs evidence" in page.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_only_the_owner_role_or_a_practice_admin_completes_a_step(cast, api_as):
    run = _run(cast)
    url = f"{API}/playbook-runs/{run.pk}/steps/1/complete"
    partner = api_as(cast.partner)
    refused = send(partner, "post", url, {})
    assert refused.status_code == 403 and "desk agents" in refused.json()["detail"]
    assert _resolve(partner, step(run, 1).ticket).status_code == 403
    assert step(run, 1).ticket.status == Status.NEW
    assert send(api_as(cast.desk), "post", url, {}).status_code == 200
    admin_url = f"{API}/playbook-runs/{run.pk}/steps/3/complete"
    assert send(api_as(cast.admin), "post", admin_url, {}).status_code == 200


def test_a_step_owned_by_a_practice_is_completed_by_its_people(cast, api_as):
    run = _run(cast, [{"title": "Re-cable", "owner_practice": cast.networking.pk}])
    url = f"{API}/playbook-runs/{run.pk}/steps/1/complete"
    assert send(api_as(cast.partner), "post", url, {}).status_code == 403
    assert send(api_as(cast.associate), "post", url, {}).status_code == 200


def test_the_run_page_offers_completion_only_to_the_owner(cast, web_as):
    run = _run(cast)
    page = web_as(cast.partner).get(f"/playbooks/runs/{run.pk}/").content.decode()
    assert "completed by desk agents or a practice admin" in page
    assert page.count("Complete step") == 2
    desk_page = web_as(cast.desk).get(f"/playbooks/runs/{run.pk}/").content.decode()
    assert desk_page.count("Complete step") == 3


def test_strangers_cannot_complete_or_see_a_run(cast, api_as):
    run = _run(cast)
    url = f"{API}/playbook-runs/{run.pk}/steps/3/complete"
    assert send(api_as(cast.other_partner), "post", url, {}).status_code == 404
    assert send(api_as(cast.other_client_admin), "post", url, {}).status_code == 404
    assert send(api_as(cast.client_admin), "post", url, {}).status_code == 403
    assert step(run, 3).completed_at is None
