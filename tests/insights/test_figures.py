"""The arithmetic of the figures against values worked out by hand (no database)."""

from __future__ import annotations

from thirdway.insights import figures


def test_percentiles_and_medians_match_hand_computed_values():
    minutes = [30, 90, 10, 50, 70]
    assert figures.percentile(minutes, 0.5) == 50  # 3rd of 5 by nearest rank
    assert figures.percentile(minutes, 0.9) == 90  # ceil(4.5) = 5th
    assert figures.percentile([30, 90], 0.5) == 30
    assert figures.percentile([], 0.5) is None
    assert figures.median([4, 1, 3, 2]) == 2.5
    assert figures.median([7]) == 7
    assert figures.median([]) is None
    assert figures.rate(1, 4) == 0.25 and figures.rate(3, 0) is None


def test_the_chart_puts_each_day_on_one_scale_and_skips_days_without_a_value():
    drawn = figures.chart(
        [figures.Series("a", (0.0, 2.0, 4.0)), figures.Series("b", (4.0, None, 0.0))],
        width=100,
        height=60,
        pad=10,
    )
    assert drawn.top == 4.0
    # x from 10 to 90 in two steps; y from 50 (zero) up to 10 (the top)
    assert dict(drawn.lines) == {"a": "10.0,50.0 50.0,30.0 90.0,10.0", "b": "10.0,10.0 90.0,50.0"}
    assert [label for _, label in drawn.ticks] == ["0", "1", "2", "3", "4"]
    assert figures.chart([figures.Series("none", (None, None))]).top == 1.0
