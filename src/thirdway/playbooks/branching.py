"""Conditions on earlier answers, and sub-playbooks: the pure rules.

A step may carry conditions on the evidence of earlier steps (``equals``, ``not_equals``,
``contains``, and ``lt``, ``lte``, ``gt``, ``gte`` on numbers), combined with ``all`` (and) or
``any`` (or); once the answers decide the combination false, the step is not applicable.
A step may run another playbook; the graph of which playbook runs which must have no cycle
and no chain deeper than :data:`MAX_DEPTH`.  No Django here: the services hand in plain
values and turn the problems into 400s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from thirdway.playbooks import engine

EQUALS = "equals"
NOT_EQUALS = "not_equals"
CONTAINS = "contains"
LT = "lt"
LTE = "lte"
GT = "gt"
GTE = "gte"
NUMERIC = (LT, LTE, GT, GTE)
OPERATORS = (EQUALS, NOT_EQUALS, CONTAINS, *NUMERIC)
ALL = "all"
ANY = "any"
MATCHES = (ALL, ANY)
MAX_CONDITIONS = 4
MAX_CONDITION_VALUE = 200
MAX_DEPTH = 5  # a run and its sub-runs: at most five playbooks in a chain
# What a settled step answers when it was not applicable: no answer at all.
NO_ANSWER = None


@dataclass(frozen=True)
class Condition:
    position: int  # the earlier step whose evidence is read
    operator: str
    value: str


@dataclass(frozen=True)
class Problem:
    field: str
    problem: str
    allowed: str


def _answer(kind: str, kept: str) -> str:
    # A done checkbox step is always ticked; it reads as "true".
    return "true" if kind == engine.CHECKBOX else kept.strip().lower()


def holds(kind: str, kept: str | None, condition: Condition) -> bool:
    """Whether ``condition`` holds on the evidence ``kept`` of a step asking for ``kind``.

    ``kept`` is None when that step was itself not applicable: nothing was answered, so
    no condition on it holds.
    """
    if kept is NO_ANSWER:
        return False
    answer, wanted = _answer(kind, kept), condition.value.strip().lower()
    if condition.operator in NUMERIC:
        return _compare(answer, wanted, condition.operator)
    if condition.operator == CONTAINS:
        return wanted in answer
    same = answer == wanted
    if kind == engine.VALUE:
        try:
            same = Decimal(answer) == Decimal(wanted)
        except InvalidOperation:
            same = False
    return same if condition.operator == EQUALS else not same


def _compare(answer: str, wanted: str, operator: str) -> bool:
    try:
        left, right = Decimal(answer), Decimal(wanted)
    except InvalidOperation:
        return False  # not a number: no comparison holds
    if not (left.is_finite() and right.is_finite()):
        return False
    if operator == LT:
        return left < right
    if operator == LTE:
        return left <= right
    if operator == GT:
        return left > right
    return left >= right


def decide(results: Sequence[bool | None], match: str) -> bool | None:
    """Whether conditions combined with ``match`` hold, from each one's result (None: its
    answer is not given yet); None while the answers given do not decide it.

    ``all`` is false as soon as one is false, ``any`` true as soon as one is true.
    """
    if not results:
        return True
    if match == ANY:
        if any(r is True for r in results):
            return True
        return False if all(r is False for r in results) else None
    if any(r is False for r in results):
        return False
    return True if all(r is True for r in results) else None


@dataclass(frozen=True)
class StepShape:
    position: int
    title: str
    evidence: str


def check_condition(
    steps: Sequence[StepShape], position: int, condition: Condition
) -> Problem | None:
    """What is wrong with ``condition`` on the step at ``position`` of ``steps``, if anything."""
    usable = [s for s in steps if s.position < position and s.evidence != engine.NONE]
    allowed = (
        "an earlier step that asks for evidence: " + ", ".join(str(s.position) for s in usable)
        if usable
        else "no condition (no earlier step asks for evidence)"
    )
    source = next((s for s in steps if s.position == condition.position), None)
    if source is None:
        return Problem("condition_step", f"There is no step {condition.position}.", allowed)
    if condition.position == position:
        return Problem("condition_step", "A step cannot depend on itself.", allowed)
    if condition.position > position:
        return Problem(
            "condition_step", f"Step {condition.position} comes later than this one.", allowed
        )
    if source.evidence == engine.NONE:
        return Problem(
            "condition_step",
            f"Step {source.position} ({source.title}) asks for no evidence to compare.",
            allowed,
        )
    return _check_value(source, condition)


def _check_value(source: StepShape, condition: Condition) -> Problem | None:
    if condition.operator not in OPERATORS:
        return Problem("condition_operator", "Unknown comparison.", ", ".join(OPERATORS))
    value = condition.value.strip()
    if not value or len(value) > MAX_CONDITION_VALUE:
        return Problem(
            "condition_value", "Say what to compare with.", f"1 to {MAX_CONDITION_VALUE} characters"
        )
    numbers = ", ".join((EQUALS, NOT_EQUALS, *NUMERIC))
    if condition.operator in NUMERIC and source.evidence != engine.VALUE:
        return Problem(
            "condition_operator",
            f"Step {source.position} ({source.title}) does not answer with a number: "
            f"{condition.operator} compares numbers.",
            f"{EQUALS}, {NOT_EQUALS}, {CONTAINS}",
        )
    if source.evidence == engine.YES_NO and value.lower() not in ("yes", "no"):
        return Problem("condition_value", f"Step {source.position} answers yes or no.", "yes, no")
    if source.evidence == engine.CHECKBOX and value.lower() not in ("true", "false"):
        return Problem("condition_value", f"Step {source.position} is a checkbox.", "true, false")
    if source.evidence == engine.VALUE:
        if condition.operator == CONTAINS:
            return Problem("condition_operator", f"Step {source.position} is a number.", numbers)
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(value) > 40:
            return Problem(
                "condition_value",
                f"Step {source.position} is a number: {value[:40]!r} is not one.",
                "a number, such as 12 or 99.5",
            )
    return None


def renumbered(condition_position: int | None, moves: Mapping[int, int]) -> int | None:
    """A condition's step after the steps moved (``moves``: old position → new)."""
    if condition_position is None:
        return None
    return moves.get(condition_position, condition_position)


# --- sub-playbooks -----------------------------------------------------------------------------


def cycle_through(graph: Mapping[int, set[int]], start: int) -> list[int] | None:
    """A cycle back to ``start`` in ``graph`` (playbook → playbooks its steps run), as the
    chain of playbooks ``[start, ..., start]``, or None."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def depth_below(graph: Mapping[int, set[int]], start: int, limit: int = MAX_DEPTH + 1) -> int:
    """How many playbooks the longest chain from ``start`` holds (``start`` itself is 1),
    counting no further than ``limit`` (the graph must have no cycle)."""
    if limit <= 1:
        return 1
    below = [depth_below(graph, nxt, limit - 1) for nxt in graph.get(start, ())]
    return 1 + max(below, default=0)
