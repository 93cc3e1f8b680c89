"""Checks of a draft's conditions and sub-playbooks, before it is saved or published.

Each refusal is a 400 naming the field and what is allowed; the rules themselves are pure
(``branching``), this module reads what they need from the database.
"""

from __future__ import annotations

from thirdway.errors import invalid
from thirdway.playbooks import branching
from thirdway.playbooks.models import Playbook, PlaybookStep, PlaybookVersion


def check_version(playbook: Playbook, version: PlaybookVersion) -> None:
    """Refuse a draft whose conditions or sub-playbooks are not allowed."""
    steps = list(version.steps.select_related("subplaybook").order_by("position"))
    shapes = [branching.StepShape(s.position, s.title, s.evidence) for s in steps]
    for step in steps:
        for n, condition in enumerate(step.conditions, start=1):
            problem = branching.check_condition(shapes, step.position, condition)
            if problem is not None:
                said = problem.problem[0].lower() + problem.problem[1:]
                which = f" (condition {n})" if n > 1 else ""
                raise invalid(
                    condition_field(problem.field, n),
                    f"Step {step.position}{which}: {said}",
                    problem.allowed,
                )
        if step.subplaybook_id:
            _check_subplaybook(playbook, step)
    if any(step.subplaybook_id for step in steps):
        check_nesting(playbook)


def condition_field(field: str, n: int) -> str:
    """The name of a field of the n-th condition: ``condition_step``, ``condition_step_2``."""
    return field if n == 1 else f"{field}_{n}"


def _check_subplaybook(playbook: Playbook, step: PlaybookStep) -> None:
    other = step.subplaybook
    if other.practice_id != playbook.practice_id or other.published() is None:
        raise invalid(
            "subplaybook",
            f"Step {step.position}: {other.name} is not a published playbook of "
            f"{playbook.practice.name}.",
            "a published playbook of the same practice: " + _choices(playbook),
        )
    if step.evidence != "none":
        raise invalid(
            "evidence",
            f"Step {step.position} runs a playbook: it is done when that run is.",
            "none",
        )


def _choices(playbook: Playbook) -> str:
    rows = (
        Playbook.objects.filter(
            practice_id=playbook.practice_id, versions__published_at__isnull=False
        )
        .exclude(pk=playbook.pk)
        .distinct()
        .values_list("pk", "name")[:20]
    )
    return ", ".join(f"{pk} ({name})" for pk, name in rows) or "none yet"


def graph_of(practice_id: int) -> dict[int, set[int]]:
    """Which playbooks of the practice run which: the steps of each one's published version
    and of its draft (the next one to be published) count."""
    latest: dict[int, int] = {}
    for playbook_id, number in PlaybookVersion.objects.filter(
        playbook__practice_id=practice_id, published_at__isnull=False
    ).values_list("playbook_id", "number"):
        latest[playbook_id] = max(number, latest.get(playbook_id, 0))
    graph: dict[int, set[int]] = {}
    rows = PlaybookStep.objects.filter(
        version__playbook__practice_id=practice_id, subplaybook__isnull=False
    ).values_list("version__playbook_id", "version__number", "version__published_at", "subplaybook")
    for playbook_id, number, published_at, sub in rows:
        if published_at is None or latest.get(playbook_id) == number:
            graph.setdefault(playbook_id, set()).add(sub)
    return graph


def check_nesting(playbook: Playbook) -> None:
    """Refuse a cycle of sub-playbooks through ``playbook``, or a chain too deep."""
    graph = graph_of(playbook.practice_id)
    cycle = branching.cycle_through(graph, playbook.pk)
    if cycle is not None:
        names = dict(Playbook.objects.filter(pk__in=cycle).values_list("pk", "name"))
        chain = " → ".join(names.get(pk, str(pk)) for pk in cycle)
        raise invalid(
            "subplaybook",
            f"Sub-playbooks would run in a cycle: {chain}.",
            "a playbook that does not run this one, directly or through others",
        )
    deepest = max(branching.depth_below(graph, node) for node in graph)
    if deepest > branching.MAX_DEPTH:
        raise invalid(
            "subplaybook",
            f"Sub-playbooks would nest {deepest} playbooks deep.",
            f"at most {branching.MAX_DEPTH} playbooks in a chain",
        )
