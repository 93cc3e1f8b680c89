"""The pure rules of conditions and sub-playbooks: what holds, what is refused, cycles, depth."""

from __future__ import annotations

import pytest

from thirdway.playbooks import branching, engine
from thirdway.playbooks.branching import Condition, StepShape

STEPS = [
    StepShape(1, "Discovery", engine.TEXT),
    StepShape(2, "Needs remote access?", engine.YES_NO),
    StepShape(3, "Licences", engine.NONE),
    StepShape(4, "Users counted", engine.VALUE),
    StepShape(5, "Set up the VPN", engine.NONE),
]


@pytest.mark.parametrize(
    ("kind", "kept", "operator", "value", "expected"),
    [
        (engine.YES_NO, "yes", "equals", "Yes", True),
        (engine.YES_NO, "no", "equals", "yes", False),
        (engine.YES_NO, "no", "not_equals", "yes", True),
        (engine.TEXT, "Office 365 and a NAS", "contains", "nas", True),
        (engine.TEXT, "Office 365", "contains", "nas", False),
        (engine.VALUE, "12.0", "equals", "12", True),
        (engine.VALUE, "12", "not_equals", "12", False),
        (engine.CHECKBOX, "checked", "equals", "true", True),
        (engine.CHECKBOX, "checked", "equals", "false", False),
    ],
)
def test_a_condition_compares_the_earlier_answer(kind, kept, operator, value, expected):
    assert branching.holds(kind, kept, Condition(1, operator, value)) is expected


def test_no_condition_holds_on_a_step_that_was_not_applicable():
    assert not branching.holds(engine.TEXT, None, Condition(1, "not_equals", "x"))


@pytest.mark.parametrize(
    ("position", "condition", "field", "words"),
    [
        (5, Condition(9, "equals", "yes"), "condition_step", "no step 9"),
        (2, Condition(4, "equals", "3"), "condition_step", "later"),
        (2, Condition(2, "equals", "yes"), "condition_step", "itself"),
        (5, Condition(3, "equals", "x"), "condition_step", "no evidence"),
        (5, Condition(2, "equals", "maybe"), "condition_value", "yes or no"),
        (5, Condition(4, "contains", "1"), "condition_operator", "number"),
        (5, Condition(4, "equals", "many"), "condition_value", "number"),
        (5, Condition(1, "equals", "  "), "condition_value", "compare"),
        (5, Condition(1, "bigger", "x"), "condition_operator", "unknown"),
    ],
)
def test_a_bad_condition_names_its_field_and_what_is_allowed(position, condition, field, words):
    problem = branching.check_condition(STEPS, position, condition)
    assert problem is not None and problem.field == field
    assert words in problem.problem.lower()
    if field == "condition_step":
        earlier = ", ".join(str(s.position) for s in STEPS[: position - 1] if s.evidence != "none")
        assert problem.allowed == f"an earlier step that asks for evidence: {earlier}"


def test_a_condition_on_an_earlier_answer_passes():
    assert branching.check_condition(STEPS, 5, Condition(2, "equals", "yes")) is None


def test_a_cycle_is_found_and_named_from_its_start():
    graph = {1: {2}, 2: {3}, 3: {1}, 4: {1}}
    assert branching.cycle_through(graph, 1) == [1, 2, 3, 1]
    assert branching.cycle_through(graph, 4) is None
    assert branching.cycle_through({1: {1}}, 1) == [1, 1]


def test_depth_counts_the_longest_chain_and_stops_past_the_limit():
    chain = {n: {n + 1} for n in range(1, 10)}
    assert branching.depth_below({1: {2, 3}, 3: {4}}, 1) == 3
    assert branching.depth_below(chain, 1) == branching.MAX_DEPTH + 1


def test_a_yes_no_answer_is_kept_in_lower_case_and_anything_else_refused():
    assert engine.evidence_kept(engine.YES_NO, " Yes ") == "yes"
    with pytest.raises(engine.EvidenceRefused):
        engine.evidence_kept(engine.YES_NO, "perhaps")


def test_every_built_in_condition_reads_an_earlier_answer_it_can_compare():
    from thirdway.playbooks import library

    conditioned = 0
    for builtin in library.BUILTINS:
        shapes = [StepShape(n, s.title, s.evidence) for n, s in enumerate(builtin.steps, start=1)]
        for n, s in enumerate(builtin.steps, start=1):
            if s.condition is not None:
                conditioned += 1
                assert branching.check_condition(shapes, n, Condition(*s.condition)) is None
    assert conditioned >= 1
