"""The lifecycle rules and the priority matrix, as pure functions."""

from __future__ import annotations

import pytest

from thirdway.tickets.lifecycle import (
    OPEN,
    Status,
    TransitionRefused,
    allowed_from,
    check_transition,
    priority_for,
)


def test_a_new_ticket_can_go_anywhere_open_or_be_resolved():
    assert set(allowed_from("new")) == {s.value for s in OPEN - {Status.NEW}} | {
        "resolved",
        "closed",
    }


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("closed", "resolved"),
        ("resolved", "waiting_client"),
        ("merged", "in_progress"),
        ("in_progress", "new"),
        ("new", "merged"),
        ("new", "flying"),
    ],
)
def test_invalid_moves_are_refused_with_the_allowed_ones(current, wanted):
    with pytest.raises(TransitionRefused) as refused:
        check_transition(current, wanted)
    assert refused.value.allowed == allowed_from(current)
    assert wanted in str(refused.value)


def test_a_closed_ticket_can_only_be_reopened():
    assert allowed_from("closed") == ["in_progress"]
    assert check_transition("closed", "in_progress") == Status.IN_PROGRESS


def test_a_merged_ticket_goes_nowhere():
    assert allowed_from("merged") == []


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (2, 2, 3), (1, 3, 3), (3, 1, 3), (2, 3, 4), (3, 3, 4)],
)
def test_priority_follows_impact_and_urgency(impact, urgency, priority):
    assert priority_for(impact, urgency) == priority


@pytest.mark.parametrize(("impact", "urgency"), [(0, 1), (4, 2), (2, 9)])
def test_impact_and_urgency_outside_one_to_three_are_refused(impact, urgency):
    with pytest.raises(ValueError, match="1 \\(high\\)"):
        priority_for(impact, urgency)
