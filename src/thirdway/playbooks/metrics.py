"""Figures of a playbook per version, computed from its runs, and two versions compared.

``figures`` is pure: it takes plain rows (see ``RunRow``) and returns plain figures, so it is
tested against hand-computed values.  ``load`` reads the rows of a playbook from the database.

- Time to complete: from a run's start to its last step done (completed runs only); the median
  and the 90th percentile (nearest rank).
- A step's duration: from when it became workable (the run's start, or the completion of the
  last blocking step before it) to its completion, against the step's expected minutes.
- Rework: a step reopened after completion (each reopening counts).
- Feedback: the participants' scores (1 to 5) on completed runs, averaged.

Steps cannot be skipped in a run: every step is completed or still open, so there is no
"skipped" figure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class StepRow:
    position: int
    title: str
    expected_minutes: int
    blocking: bool
    completed_at: dt.datetime | None
    reopens: int = 0
    # When it became not applicable (its condition was false): not done, not over, but it
    # holds no later step from then on.
    not_applicable_at: dt.datetime | None = None
    # Of ``reopens``, those made by reopening the step's ticket (from the desk).
    ticket_reopens: int = 0


@dataclass(frozen=True)
class RunRow:
    version: int
    started_at: dt.datetime
    completed_at: dt.datetime | None
    steps: Sequence[StepRow]
    scores: Sequence[int] = ()


@dataclass
class StepFigures:
    position: int
    title: str
    expected_minutes: int
    completed: int = 0
    median_minutes: Decimal | None = None
    over_expected: int = 0
    reopens: int = 0
    runs_reworked: int = 0
    ticket_reopens: int = 0


@dataclass
class VersionFigures:
    version: int
    runs_started: int = 0
    runs_completed: int = 0
    median_minutes: Decimal | None = None
    p90_minutes: Decimal | None = None
    reopens: int = 0
    ticket_reopens: int = 0
    feedback_count: int = 0
    feedback_average: Decimal | None = None
    steps: list[StepFigures] = field(default_factory=list)


def _minutes(seconds: float) -> Decimal:
    return (Decimal(str(seconds)) / 60).quantize(TENTH, rounding=ROUND_HALF_UP)


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def workable_at(run: RunRow, step: StepRow) -> dt.datetime:
    """When ``step`` could be worked: the start, or the last blocking step before it done."""
    moments = [
        settled
        for s in run.steps
        if s.position < step.position and s.blocking
        for settled in (s.completed_at or s.not_applicable_at,)
        if settled is not None
    ]
    return max([run.started_at, *moments])


def step_seconds(run: RunRow, step: StepRow) -> float | None:
    if step.completed_at is None:
        return None
    return max(0.0, (step.completed_at - workable_at(run, step)).total_seconds())


def _version(number: int, runs: list[RunRow]) -> VersionFigures:
    out = VersionFigures(version=number, runs_started=len(runs))
    totals = [
        (r.completed_at - r.started_at).total_seconds() for r in runs if r.completed_at is not None
    ]
    out.runs_completed = len(totals)
    mid, p90 = median(totals), nearest_rank(totals, 90)
    out.median_minutes = None if mid is None else _minutes(mid)
    out.p90_minutes = None if p90 is None else _minutes(p90)
    scores = [s for r in runs for s in r.scores]
    out.feedback_count = len(scores)
    if scores:
        out.feedback_average = (Decimal(sum(scores)) / len(scores)).quantize(
            HUNDREDTH, rounding=ROUND_HALF_UP
        )
    by_position: dict[int, StepFigures] = {}
    durations: dict[int, list[float]] = {}
    for run in runs:
        for step in run.steps:
            figures = by_position.setdefault(
                step.position, StepFigures(step.position, step.title, step.expected_minutes)
            )
            seconds = step_seconds(run, step)
            if seconds is not None:
                figures.completed += 1
                durations.setdefault(step.position, []).append(seconds)
                if seconds > step.expected_minutes * 60:
                    figures.over_expected += 1
            figures.reopens += step.reopens
            figures.runs_reworked += 1 if step.reopens else 0
            figures.ticket_reopens += step.ticket_reopens
    for position, values in durations.items():
        by_position[position].median_minutes = _minutes(median(values))  # type: ignore[arg-type]
    out.steps = [by_position[p] for p in sorted(by_position)]
    out.reopens = sum(s.reopens for s in out.steps)
    out.ticket_reopens = sum(s.ticket_reopens for s in out.steps)
    return out


def figures(runs: Iterable[RunRow], versions: Iterable[int] = ()) -> list[VersionFigures]:
    """Figures per version, newest first; ``versions`` lists those to show even without runs."""
    grouped: dict[int, list[RunRow]] = {number: [] for number in versions}
    for run in runs:
        grouped.setdefault(run.version, []).append(run)
    return [_version(number, grouped[number]) for number in sorted(grouped, reverse=True)]


# --- comparing two versions --------------------------------------------------------------------

LOWER_IS_BETTER = "lower"
HIGHER_IS_BETTER = "higher"
NEUTRAL = ""  # shown with its change, neither better nor worse (counts, targets)


Figure = Decimal | int | None


@dataclass(frozen=True)
class Difference:
    label: str
    before: Decimal | int | None
    after: Decimal | int | None
    change: Decimal | int | None
    verdict: str  # "better", "worse", "same" or "" (not comparable)


def difference(label: str, before: Figure, after: Figure, better: str) -> Difference:
    if before is None or after is None:
        return Difference(label, before, after, None, "")
    change = after - before
    if better == NEUTRAL:
        verdict = ""
    elif change == 0:
        verdict = "same"
    elif (change < 0) == (better == LOWER_IS_BETTER):
        verdict = "better"
    else:
        verdict = "worse"
    return Difference(label, before, after, change, verdict)


@dataclass
class StepComparison:
    title: str
    expected: Difference
    median: Difference
    over_expected: Difference
    reopens: Difference


@dataclass
class Comparison:
    before: VersionFigures
    after: VersionFigures
    figures: list[Difference]
    steps: list[StepComparison]


def _of(step: StepFigures | None, name: str) -> Figure:
    return None if step is None else getattr(step, name)


def compare(before: VersionFigures, after: VersionFigures) -> Comparison:
    """``after`` against ``before``; steps are matched by title (positions may have moved)."""
    rows = [
        difference("Runs started", before.runs_started, after.runs_started, NEUTRAL),
        difference("Runs completed", before.runs_completed, after.runs_completed, NEUTRAL),
        difference(
            "Time to complete, median (min)",
            before.median_minutes,
            after.median_minutes,
            LOWER_IS_BETTER,
        ),
        difference(
            "Time to complete, p90 (min)", before.p90_minutes, after.p90_minutes, LOWER_IS_BETTER
        ),
        difference("Steps reopened", before.reopens, after.reopens, LOWER_IS_BETTER),
        difference(
            "Steps reopened from the desk",
            before.ticket_reopens,
            after.ticket_reopens,
            LOWER_IS_BETTER,
        ),
        difference(
            "Feedback, average score",
            before.feedback_average,
            after.feedback_average,
            HIGHER_IS_BETTER,
        ),
    ]
    old = {s.title: s for s in before.steps}
    new = {s.title: s for s in after.steps}
    titles = [s.title for s in after.steps] + [t for t in old if t not in new]
    steps = []
    for title in titles:
        a, b = old.get(title), new.get(title)
        steps.append(
            StepComparison(
                title,
                difference(
                    "expected",
                    _of(a, "expected_minutes"),
                    _of(b, "expected_minutes"),
                    NEUTRAL,
                ),
                difference(
                    "median", _of(a, "median_minutes"), _of(b, "median_minutes"), LOWER_IS_BETTER
                ),
                difference(
                    "over", _of(a, "over_expected"), _of(b, "over_expected"), LOWER_IS_BETTER
                ),
                difference("reopens", _of(a, "reopens"), _of(b, "reopens"), LOWER_IS_BETTER),
            )
        )
    return Comparison(before, after, rows, steps)


# --- reading the rows --------------------------------------------------------------------------


def load(playbook: Any) -> list[VersionFigures]:
    """The figures of every published version of ``playbook`` (all its runs count)."""
    from django.db.models import Count, Q

    from thirdway.playbooks.models import Run, RunFeedback, RunStep

    runs = {
        r.pk: r
        for r in Run.objects.filter(playbook=playbook).select_related("version").order_by("pk")
    }
    steps: dict[int, list[StepRow]] = {pk: [] for pk in runs}
    for rs in (
        RunStep.objects.filter(run__playbook=playbook)
        .select_related("step")
        .annotate(
            reopen_count=Count("reopens"),
            ticket_reopen_count=Count("reopens", filter=Q(reopens__from_ticket=True)),
        )
        .order_by("run", "position")
    ):
        steps[rs.run_id].append(
            StepRow(
                rs.position,
                rs.step.title,
                rs.step.expected_minutes,
                rs.step.blocking,
                rs.completed_at,
                rs.reopen_count,
                rs.not_applicable_at,
                rs.ticket_reopen_count,
            )
        )
    scores: dict[int, list[int]] = {pk: [] for pk in runs}
    for run_id, score in RunFeedback.objects.filter(run__playbook=playbook).values_list(
        "run_id", "score"
    ):
        scores[run_id].append(score)
    rows = [
        RunRow(r.version.number, r.started_at, r.completed_at, steps[pk], scores[pk])
        for pk, r in runs.items()
    ]
    published = playbook.versions.exclude(published_at=None).values_list("number", flat=True)
    return figures(rows, published)
