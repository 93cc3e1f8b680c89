"""Several conditions on a step, combined with all (and) or any (or), and numeric comparisons
on value evidence: what they decide in a run, and the 400s naming the field for bad ones."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from support.api import API, assert_refused, send
from thirdway.playbooks import branching, services

from .branchy import CLI, book, complete, step

SURVEY = [
    {"title": "Users at the site", "evidence": "value"},
    {"title": "Needs remote access?", "evidence": "yes_no"},
]


def _with(last: dict) -> list[dict]:
    return [*SURVEY, {"title": "Set up the VPN concentrator", **last}]


BOTH = {
    "condition_step": 1,
    "condition_operator": "gt",
    "condition_value": "20",
    "condition_step_2": 2,
    "condition_operator_2": "equals",
    "condition_value_2": "yes",
}


@pytest.mark.parametrize(
    ("operator", "value", "answer", "holds"),
    [
        ("lt", "10", "9.5", True),
        ("lt", "10", "10", False),
        ("lte", "10", "10.0", True),
        ("gt", "10", "10", False),
        ("gt", "10", "11", True),
        ("gte", "-1", "-1", True),
        ("gte", "3", "2", False),
    ],
)
def test_numeric_comparisons_read_the_value_as_a_number(operator, value, answer, holds):
    condition = branching.Condition(1, operator, value)
    assert branching.holds("value", answer, condition) is holds


def test_all_and_any_decide_as_soon_as_the_answers_given_do():
    assert branching.decide([False, None], "all") is False
    assert branching.decide([True, None], "all") is None
    assert branching.decide([True, True], "all") is True
    assert branching.decide([True, None], "any") is True
    assert branching.decide([False, None], "any") is None
    assert branching.decide([False, False], "any") is False
    assert branching.decide([], "any") is True


def test_with_all_one_false_answer_makes_the_step_not_applicable_at_once(cast):
    run = services.start_run(cast.partner, book(cast, _with(BOTH)), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "12")
    last = step(run, 3)
    assert last.not_applicable_at is not None
    note = last.ticket.articles.filter(body_text__startswith="Not applicable").get().body_text
    assert 'step 1 is greater than "20" and step 2 equals "yes"' in note
    assert 'answered "12"' in note


def test_with_all_the_step_waits_for_every_answer_then_applies(cast):
    run = services.start_run(cast.partner, book(cast, _with(BOTH)), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "40")
    with pytest.raises(ValidationError) as refused:
        complete(cast.partner, run, 3)
    assert refused.value.error_dict["step"][0].params["allowed"] == "complete step 2 first"
    complete(cast.partner, run, 2, "yes")
    assert complete(cast.partner, run, 3).completed_at is not None


def test_with_any_one_true_answer_is_enough_and_all_false_is_not_applicable(cast):
    either = {**BOTH, "condition_match": "any"}
    made = book(cast, _with(either))
    run = services.start_run(cast.partner, made, cast.acme, source=CLI)
    complete(cast.partner, run, 2, "yes")
    assert complete(cast.partner, run, 3).completed_at is not None
    other = services.start_run(cast.partner, made, cast.acme, source=CLI)
    complete(cast.partner, other, 1, "5")
    assert step(other, 3).not_applicable_at is None
    complete(cast.partner, other, 2, "no")
    assert step(other, 3).not_applicable_at is not None
    other.refresh_from_db()
    assert other.completed_at is not None


def test_reopening_either_answer_opens_the_step_it_made_not_applicable(cast):
    run = services.start_run(cast.partner, book(cast, _with(BOTH)), cast.acme, source=CLI)
    complete(cast.partner, run, 1, "40")
    complete(cast.partner, run, 2, "no")
    assert step(run, 3).not_applicable_at is not None
    services.reopen_step(cast.partner, step(run, 2), reason="Asked again", source=CLI)
    assert step(run, 3).not_applicable_at is None
    complete(cast.partner, run, 2, "yes")
    assert step(run, 3).not_applicable_at is None


def test_the_api_takes_and_shows_several_conditions(cast, api_as):
    api = api_as(cast.partner)
    made = book(cast, SURVEY)
    answer = send(
        api,
        "post",
        f"{API}/playbooks/{made.pk}/steps",
        {
            "title": "Add a second firewall",
            "conditions": [
                {"step": 1, "operator": "gte", "value": "50"},
                {"step": 2, "operator": "equals", "value": "yes"},
            ],
            "match": "any",
        },
    )
    assert answer.status_code == 201, answer.content
    shown = send(api, "get", f"{API}/playbooks/{made.pk}").json()["draft"]["steps"][2]
    assert shown["match"] == "any"
    assert shown["conditions"] == [
        {"step": 1, "operator": "gte", "value": "50"},
        {"step": 2, "operator": "equals", "value": "yes"},
    ]
    assert shown["condition"] == {"step": 1, "operator": "gte", "value": "50"}


@pytest.mark.parametrize(
    ("conditions", "field", "words"),
    [
        ([{"step": 1, "operator": "gt", "value": "many"}], "condition_value", "not one"),
        ([{"step": 2, "operator": "lt", "value": "3"}], "condition_operator", "number"),
        (
            [
                {"step": 1, "operator": "gt", "value": "3"},
                {"step": 7, "operator": "equals", "value": "yes"},
            ],
            "condition_step_2",
            "no step 7",
        ),
        (
            [
                {"step": 1, "operator": "gt", "value": "3"},
                {"step": 2, "operator": "equals", "value": "maybe"},
            ],
            "condition_value_2",
            "yes or no",
        ),
        (
            [
                {"step": 2, "operator": "equals", "value": "yes"},
                {"step": 1, "operator": "contains", "value": "1"},
            ],
            "condition_operator_2",
            "number",
        ),
    ],
)
def test_bad_conditions_are_a_400_naming_the_field_and_change_nothing(
    cast, api_as, conditions, field, words
):
    api = api_as(cast.partner)
    made = book(cast, _with({}))
    services.update_step(cast.admin, made, 1, {"title": "Users at the site"}, source=CLI)
    before = list(made.draft().steps.values("position", "condition_position", "more_conditions"))
    answer = send(
        api,
        "put",
        f"{API}/playbooks/{made.pk}/steps/3",
        {"title": "Set up the VPN concentrator", "conditions": conditions},
    )
    errors = assert_refused(answer, field)
    assert words in str(errors).lower()
    after = list(made.draft().steps.values("position", "condition_position", "more_conditions"))
    assert after == before


def test_more_than_four_conditions_or_an_unknown_match_are_refused(cast, api_as):
    api = api_as(cast.partner)
    made = book(cast, SURVEY)
    five = [{"step": 1, "operator": "gt", "value": str(n)} for n in range(5)]
    url = f"{API}/playbooks/{made.pk}/steps"
    assert_refused(send(api, "post", url, {"title": "X", "conditions": five}), "conditions")
    one = five[:1]
    answer = send(api, "post", url, {"title": "X", "conditions": one, "match": "most"})
    assert_refused(answer, "match")


def test_moving_steps_carries_every_condition_and_removing_a_read_step_is_refused(cast):
    steps = [*SURVEY, {"title": "Spare"}, {"title": "VPN", **BOTH}]
    made = book(cast, steps)
    with pytest.raises(ValidationError) as refused:
        services.remove_step(cast.admin, made, 2, source=CLI)
    assert "position" in refused.value.message_dict
    services.move_step(cast.admin, made, 3, 1, source=CLI)
    vpn = made.draft().steps.get(title="VPN")
    assert vpn.position == 3
    assert [c.position for c in vpn.conditions] == [1, 2]
    services.move_step(cast.admin, made, 1, 1, source=CLI)
    vpn.refresh_from_db()
    assert [c.position for c in vpn.conditions] == [2, 1]
