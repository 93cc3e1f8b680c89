"""Figures of a playbook per version, against values computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from thirdway.audit.models import Source
from thirdway.playbooks import metrics, services
from thirdway.playbooks.metrics import RunRow, StepRow
from thirdway.playbooks.models import RunFeedback, RunStep, StepReopen

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes: int | None) -> dt.datetime | None:
    return None if minutes is None else T0 + dt.timedelta(minutes=minutes)


def run(version, done, steps, expected=(30, 60, 20), reopens=(0, 0, 0), scores=()):
    titles = ("Triage", "Contain", "Report")
    rows = [
        StepRow(n, titles[n - 1], expected[n - 1], n == 1, at(m), reopens[n - 1])
        for n, m in enumerate(steps, start=1)
    ]
    return RunRow(version, T0, at(done), rows, scores)


# Version 1: four runs (three completed); step 1 blocks the others.
#   A: 20 / 100 / 50, done at 100, step 2 reopened once
#   B: 40 / 70 / 55, done at 70, scores 4 and 2
#   C: 10 / open / 25, not done, step 1 reopened twice
#   D: 30 / 90 / 45, done at 90, score 5
# Version 2: one run E: 15 / 50 / 30, done at 50, scores 5 and 4; step 2 expects 45.
RUNS = [
    run(1, 100, (20, 100, 50), reopens=(0, 1, 0)),
    run(1, 70, (40, 70, 55), scores=(4, 2)),
    run(1, None, (10, None, 25), reopens=(2, 0, 0)),
    run(1, 90, (30, 90, 45), scores=(5,)),
    run(2, 50, (15, 50, 30), expected=(30, 45, 20), scores=(5, 4)),
]


def test_figures_per_version_match_the_hand_computed_values():
    v3, v2, v1 = metrics.figures(RUNS, versions=[1, 2, 3])
    assert (v3.version, v3.runs_started, v3.median_minutes, v3.steps) == (3, 0, None, [])
    assert v1.version == 1
    assert (v1.runs_started, v1.runs_completed) == (4, 3)
    # Completed in 70, 90 and 100 minutes: median 90, p90 (nearest rank 3 of 3) 100.
    assert (v1.median_minutes, v1.p90_minutes) == (Decimal("90.0"), Decimal("100.0"))
    assert v1.reopens == 3
    # Scores 4, 2, 5: 11 / 3.
    assert (v1.feedback_count, v1.feedback_average) == (3, Decimal("3.67"))
    triage, contain, report = v1.steps
    # Triage is workable from the start: 20, 40, 10, 30 → median 25; 40 is over 30.
    assert (triage.completed, triage.median_minutes, triage.over_expected) == (
        4,
        Decimal("25.0"),
        1,
    )
    assert (triage.reopens, triage.runs_reworked) == (2, 1)
    # Contain is workable once Triage is done: 100-20, 70-40, 90-30 → 80, 30, 60.
    assert (contain.completed, contain.median_minutes, contain.over_expected) == (
        3,
        Decimal("60.0"),
        1,
    )
    assert (contain.reopens, contain.runs_reworked) == (1, 1)
    # Report: 50-20, 55-40, 25-10, 45-30 → 30, 15, 15, 15; 30 is over 20.
    assert (report.median_minutes, report.over_expected, report.reopens) == (
        Decimal("15.0"),
        1,
        0,
    )
    assert (v2.runs_started, v2.runs_completed, v2.median_minutes, v2.p90_minutes) == (
        1,
        1,
        Decimal("50.0"),
        Decimal("50.0"),
    )
    assert v2.feedback_average == Decimal("4.50")
    assert v2.steps[1].median_minutes == Decimal("35.0")


def test_percentiles_and_medians_of_even_and_odd_counts():
    assert metrics.median([]) is None and metrics.nearest_rank([], 90) is None
    assert metrics.median([3, 1, 2]) == 2 and metrics.median([4, 1, 3, 2]) == 2.5
    values = list(range(1, 21))  # 1..20: the 90th percentile is the 18th value
    assert metrics.nearest_rank(values, 90) == 18
    assert metrics.nearest_rank([7], 90) == 7


def test_a_step_done_before_a_reopened_blocker_counts_zero_not_negative():
    row = RunRow(1, T0, None, [StepRow(1, "a", 5, True, at(50)), StepRow(2, "b", 5, False, at(20))])
    assert metrics.step_seconds(row, row.steps[1]) == 0.0


def test_comparing_two_versions_marks_what_got_better_or_worse():
    _, v2, v1 = metrics.figures(RUNS, versions=[1, 2, 3])
    comparison = metrics.compare(v1, v2)
    by_label = {d.label: d for d in comparison.figures}
    median = by_label["Time to complete, median (min)"]
    assert (median.before, median.after, median.change, median.verdict) == (
        Decimal("90.0"),
        Decimal("50.0"),
        Decimal("-40.0"),
        "better",
    )
    assert by_label["Steps reopened"].verdict == "better"
    feedback = by_label["Feedback, average score"]
    assert (feedback.change, feedback.verdict) == (Decimal("0.83"), "better")
    # Counts of runs are shown, never judged.
    assert (by_label["Runs started"].change, by_label["Runs started"].verdict) == (-3, "")
    worse = metrics.compare(v2, v1)
    assert {d.label: d.verdict for d in worse.figures}["Time to complete, p90 (min)"] == "worse"
    contain = next(s for s in comparison.steps if s.title == "Contain")
    assert (contain.expected.before, contain.expected.after, contain.expected.verdict) == (
        60,
        45,
        "",
    )
    assert (contain.median.change, contain.median.verdict) == (Decimal("-25.0"), "better")


def test_load_reads_runs_reopens_and_feedback_of_the_database(cast, books):
    """A real run, its timestamps set to fixed values, read back into the same figures."""
    run = books.run
    steps = list(run.steps.select_related("step").order_by("position"))
    run.started_at = T0
    run.completed_at = at(120)
    run.save()
    expected = []
    for n, rs in enumerate(steps, start=1):
        rs.completed_at = at(10 * n)
        rs.save()
        expected.append(rs.step)
    StepReopen.objects.create(
        run_step=steps[0], at=at(5), by=cast.partner, reason="wrong", was_completed_at=at(4)
    )
    RunFeedback.objects.create(run=run, person=cast.partner, person_label="P", score=3, at=at(130))
    (v1,) = metrics.load(books.incident)
    assert (v1.runs_started, v1.runs_completed, v1.median_minutes) == (1, 1, Decimal("120.0"))
    assert (v1.reopens, v1.feedback_average) == (1, Decimal("3.00"))
    first = v1.steps[0]
    assert (first.title, first.median_minutes, first.reopens) == (
        expected[0].title,
        Decimal("10.0"),
        1,
    )
    # The second step is workable from the start unless the first blocks it.
    second_from = 10 if expected[0].blocking else 0
    assert v1.steps[1].median_minutes == Decimal(20 - second_from).quantize(Decimal("0.1"))
    assert RunStep.objects.filter(run=run).count() == len(v1.steps)


def test_a_new_version_without_runs_is_listed_with_empty_figures(cast, books):
    services.add_step(
        cast.partner, books.incident, {"title": "Call the insurer"}, source=Source.CLI
    )
    services.publish(cast.partner, books.incident, source=Source.CLI)
    v2, v1 = metrics.load(books.incident)
    assert (v2.version, v2.runs_started, v2.median_minutes) == (2, 0, None)
    assert v1.runs_started == 1
