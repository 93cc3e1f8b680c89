"""Feedback on a completed run, reopening a step, and the metrics API: bounds, who may, and
who gets a 404."""

from __future__ import annotations

import pytest

from support.api import API, assert_refused, send
from thirdway.audit.models import AuditRecord, Source
from thirdway.playbooks import services
from thirdway.playbooks.models import RunFeedback, StepReopen
from thirdway.tickets.lifecycle import Status


def finish(run, actor) -> None:
    for rs in run.steps.select_related("step").order_by("position"):
        evidence = "true" if rs.step.evidence == "checkbox" else "12"
        services.complete_step(actor, rs, evidence=evidence, source=Source.CLI)
    run.refresh_from_db()
    assert run.completed_at is not None


def test_feedback_is_bounded_once_per_person_and_only_on_a_completed_run(cast, books, api_as):
    api = api_as(cast.partner)
    url = f"{API}/playbook-runs/{books.run.pk}/feedback"
    assert_refused(send(api, "post", url, {"score": 4}), "run")
    finish(books.run, cast.partner)
    assert_refused(send(api, "post", url, {"score": 0}), "score")
    assert_refused(send(api, "post", url, {"score": 6}), "score")
    assert_refused(send(api, "post", url, {"score": 4, "comment": "x" * 1001}), "comment")
    assert_refused(send(api, "post", url, {"score": "many"}), "score")
    assert not RunFeedback.objects.exists()
    given = send(api, "post", url, {"score": 4, "comment": "x" * 1000})
    assert given.status_code == 201, given.content
    assert given.json()["score"] == 4 and given.json()["person"] == "Paula Partner"
    assert_refused(send(api, "post", url, {"score": 5}), "run")
    assert RunFeedback.objects.get().score == 4
    assert AuditRecord.objects.filter(action="playbook.feedback").count() == 1
    listed = send(api, "get", url)
    assert [f["score"] for f in listed.json()] == [4]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("desk", 201),  # staff who serve the client
        ("admin", 201),
        ("associate", 403),  # sees the run, took no part in it
        ("client_admin", 403),
        ("client_user", 404),
        ("other_partner", 404),
        ("outsider", 404),
    ],
)
def test_only_participants_or_staff_give_feedback_and_others_get_a_404(
    cast, books, api_as, who, status
):
    finish(books.run, cast.partner)
    answer = send(
        api_as(getattr(cast, who)),
        "post",
        f"{API}/playbook-runs/{books.run.pk}/feedback",
        {"score": 3},
    )
    assert answer.status_code == status, answer.content
    assert RunFeedback.objects.count() == (1 if status == 201 else 0)


def test_reopening_a_step_needs_a_reason_reopens_its_ticket_and_the_run(cast, books, api_as):
    finish(books.run, cast.partner)
    api = api_as(cast.partner)
    url = f"{API}/playbook-runs/{books.run.pk}/steps/1/reopen"
    assert_refused(send(api, "post", url, {"reason": ""}), "reason")
    assert_refused(send(api, "post", url, {"reason": "x" * 1001}), "reason")
    assert not StepReopen.objects.exists()
    answer = send(api, "post", url, {"reason": "The triage missed a host"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["completed_at"] is None and body["steps"][0]["completed_at"] is None
    first = books.run.steps.get(position=1)
    first.ticket.refresh_from_db()
    books.run.ticket.refresh_from_db()
    assert first.ticket.status == Status.IN_PROGRESS
    assert books.run.ticket.status == Status.IN_PROGRESS
    reopen = StepReopen.objects.get()
    assert reopen.reason == "The triage missed a host" and reopen.by == cast.partner
    audit = AuditRecord.objects.get(action="playbook.step_reopen")
    assert audit.changes["reason"] == [None, "The triage missed a host"]
    assert books.run.events.filter(text__startswith="Reopened step 1").exists()
    # An open step cannot be reopened; done again, it can be.
    assert_refused(send(api, "post", url, {"reason": "again"}), "step")
    services.complete_step(cast.partner, first, evidence="true", source=Source.CLI)
    assert send(api, "post", url, {"reason": "again"}).status_code == 200
    assert StepReopen.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [("client_admin", 403), ("other_partner", 404), ("client_user", 404), ("outsider", 404)],
)
def test_reopening_is_for_the_network_serving_the_client(cast, books, api_as, who, status):
    finish(books.run, cast.partner)
    answer = send(
        api_as(getattr(cast, who)),
        "post",
        f"{API}/playbook-runs/{books.run.pk}/steps/1/reopen",
        {"reason": "not good"},
    )
    assert answer.status_code == status, answer.content
    assert not StepReopen.objects.exists()


def test_the_metrics_api_gives_figures_per_version_and_404_outside(cast, books, api_as):
    finish(books.run, cast.partner)
    services.leave_feedback(cast.partner, books.run, score=5, source=Source.CLI)
    api = api_as(cast.partner)
    answer = send(api, "get", f"{API}/playbooks/{books.incident.pk}/metrics")
    assert answer.status_code == 200, answer.content
    (v1,) = answer.json()["versions"]
    assert (v1["version"], v1["runs_started"], v1["runs_completed"]) == (1, 1, 1)
    assert v1["feedback_count"] == 1 and v1["steps"][0]["completed"] == 1
    one = send(api, "get", f"{API}/playbooks/{books.incident.pk}/metrics?version=1")
    assert one.status_code == 200
    missing = send(api, "get", f"{API}/playbooks/{books.incident.pk}/metrics?version=9")
    assert missing.status_code == 404
    for who in ("other_partner", "client_admin", "outsider"):
        hidden = send(
            api_as(getattr(cast, who)), "get", f"{API}/playbooks/{books.incident.pk}/metrics"
        )
        assert hidden.status_code == 404, who
