"""Conditions on earlier answers: a step whose condition is false when the earlier step is
done becomes not applicable (its ticket closed with a note), holds nothing, and is neither
done nor over in the metrics; bad conditions are refused naming the field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from support.api import API, assert_refused, send
from thirdway.playbooks import metrics, services
from thirdway.tickets.lifecycle import Status

from .branchy import CLI, REMOTE, book, complete, step


def test_a_step_whose_condition_is_false_becomes_not_applicable_and_its_ticket_closes(cast):
    run = services.start_run(cast.partner, book(cast, REMOTE), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "No")
    vpn = step(run, 2)
    assert vpn.not_applicable_at is not None and vpn.completed_at is None
    assert vpn.ticket.status == Status.CLOSED
    assert vpn.ticket.articles.filter(body_text__startswith="Not applicable").exists()
    assert step(run, 3).not_applicable_at is None
    assert any("not applicable" in e.text for e in services.timeline(run))
    complete(cast.partner, run, 3)
    run.refresh_from_db()
    assert run.completed_at is not None
    figures = metrics.load(run.playbook)[0].steps[1]
    assert (figures.completed, figures.over_expected, figures.median_minutes) == (0, 0, None)


def test_a_step_whose_condition_holds_stays_open_and_is_completed_as_usual(cast):
    run = services.start_run(cast.partner, book(cast, REMOTE), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "yes")
    assert step(run, 2).not_applicable_at is None
    complete(cast.partner, run, 2)
    assert step(run, 2).completed_at is not None


def test_a_conditioned_step_waits_for_the_answer_it_reads(cast):
    run = services.start_run(cast.partner, book(cast, REMOTE), cast.acme, source=CLI)
    with pytest.raises(ValidationError) as refused:
        complete(cast.partner, run, 2)
    assert "step" in refused.value.message_dict
    assert "applies only if step 1" in str(refused.value)


def test_a_blocking_step_not_applicable_holds_no_later_step(cast):
    steps = [dict(REMOTE[0]), dict(REMOTE[1], blocking=True), dict(REMOTE[2])]
    run = services.start_run(cast.partner, book(cast, steps), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "no")
    assert complete(cast.partner, run, 3).completed_at is not None


def test_reopening_the_answer_opens_the_steps_it_made_not_applicable(cast):
    run = services.start_run(cast.partner, book(cast, REMOTE), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "no")
    services.reopen_step(cast.partner, step(run, 1), reason="They do work from home", source=CLI)
    vpn = step(run, 2)
    assert vpn.not_applicable_at is None and vpn.ticket.status == Status.IN_PROGRESS
    complete(cast.partner, run, 1, "yes")
    assert step(run, 2).not_applicable_at is None
    assert step(run, 2).step.title == "Set up the VPN"


def test_a_chain_of_conditions_settles_in_one_go(cast):
    steps = [
        *REMOTE[:2],
        {
            "title": "Test the VPN",
            "evidence": "text",
            "condition_step": 1,
            "condition_operator": "not_equals",
            "condition_value": "no",
        },
        {
            "title": "Write down the VPN test",
            "condition_step": 3,
            "condition_operator": "contains",
            "condition_value": "ok",
        },
    ]
    run = services.start_run(cast.partner, book(cast, steps), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "no")
    assert [step(run, n).not_applicable_at is not None for n in (2, 3, 4)] == [True] * 3
    run.refresh_from_db()
    assert run.completed_at is not None


def test_the_built_in_client_onboarding_asks_about_remote_access_before_the_vpn(cast):
    onboarding = services.copy_builtin(
        cast.admin, "client_onboarding", practice_id=cast.security.pk, source=CLI
    )
    run = services.start_run(cast.partner, onboarding, cast.acme, source=CLI)
    complete(cast.partner, run, 1, "Sites: one bakery")
    complete(cast.partner, run, 3, "no")
    vpn = step(run, 4)
    assert vpn.step.title == "Set up the VPN" and vpn.not_applicable_at is not None


def _draft_titles(book_) -> list[str]:
    return list(book_.draft().steps.order_by("position").values_list("title", flat=True))


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"step": 9, "operator": "equals", "value": "yes"}, "no step 9"),
        ({"step": 3, "operator": "equals", "value": "yes"}, "later"),
        ({"step": 2, "operator": "equals", "value": "yes"}, "itself"),
        ({"step": 1, "operator": "equals", "value": "x"}, "no evidence"),
    ],
)
def test_a_condition_on_a_missing_later_own_or_silent_step_is_a_400(cast, api_as, condition, words):
    made = book(
        cast, [{"title": "Licences"}, {"title": "VPN"}, {"title": "Ask", "evidence": "text"}]
    )
    api = api_as(cast.partner)
    services.update_step(cast.admin, made, 3, {"title": "Ask"}, source=CLI)  # a draft exists
    before = list(made.draft().steps.values("position", "condition_position"))
    answer = send(
        api,
        "put",
        f"{API}/playbooks/{made.pk}/steps/2",
        {"title": "VPN", "condition": condition},
    )
    errors = assert_refused(answer, "condition_step")
    assert words in str(errors).lower()
    assert "asks for evidence" in str(errors) or "no earlier step" in str(errors)
    assert list(made.draft().steps.values("position", "condition_position")) == before


def test_the_api_shows_conditions_and_not_applicable_steps(cast, api_as):
    api = api_as(cast.partner)
    made = book(cast, REMOTE)
    shown = send(api, "get", f"{API}/playbooks/{made.pk}").json()
    assert shown["published"]["steps"][1]["condition"] == {
        "step": 1,
        "operator": "equals",
        "value": "yes",
    }
    run = send(api, "post", f"{API}/playbook-runs", {"playbook": made.pk, "client": cast.acme.pk})
    run_id = run.json()["id"]
    url = f"{API}/playbook-runs/{run_id}/steps/1/complete"
    assert_refused(send(api, "post", url, {"evidence": "maybe"}), "evidence")
    answered = send(api, "post", url, {"evidence": "no"})
    assert [s["state"] for s in answered.json()["steps"]] == ["done", "not_applicable", "open"]


def test_moving_a_step_above_the_one_it_reads_or_removing_that_one_is_refused(cast):
    made = book(cast, REMOTE)
    with pytest.raises(ValidationError) as refused:
        services.move_step(cast.admin, made, 2, -1, source=CLI)
    assert "offset" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.remove_step(cast.admin, made, 1, source=CLI)
    assert "position" in refused.value.message_dict
    services.move_step(cast.admin, made, 3, -1, source=CLI)
    moved = made.draft().steps.get(title="Set up the VPN")
    assert (moved.position, moved.condition_position) == (3, 1)
    assert _draft_titles(made) == ["Needs remote access?", "Hand over the laptop", "Set up the VPN"]
