"""The arithmetic of the figures: percentiles, medians, rates and the points of a trend chart.

Pure Python (no Django), so the figures are checked against hand-computed values without a
database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0-1) percentile by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a share, or None when there is nothing to measure."""
    return None if whole <= 0 else part / whole


@dataclass(frozen=True)
class Series:
    """One line of a chart: its name and a value per day (None: nothing measured)."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    """A line chart laid out in a ``width`` by ``height`` box: polyline points per series and
    the labels of the vertical axis."""

    width: int
    height: int
    lines: tuple[tuple[str, str], ...]  # (series name, "x,y x,y ...")
    top: float
    ticks: tuple[tuple[float, str], ...]  # (y, label)


def chart(series: Sequence[Series], width: int = 640, height: int = 200, pad: int = 30) -> Chart:
    """Lay out the series on one scale from 0 to the largest value; gaps (None) are skipped."""
    found = [v for s in series for v in s.values if v is not None]
    top = max(found, default=0.0) or 1.0
    days = max((len(s.values) for s in series), default=0)
    step = (width - 2 * pad) / max(days - 1, 1)
    inner = height - 2 * pad

    def y(value: float) -> float:
        return round(height - pad - inner * value / top, 1)

    lines = tuple(
        (
            s.name,
            " ".join(
                f"{round(pad + i * step, 1)},{y(v)}"
                for i, v in enumerate(s.values)
                if v is not None
            ),
        )
        for s in series
    )
    ticks = tuple((y(top * k / 4), f"{top * k / 4:g}") for k in range(5))
    return Chart(width, height, lines, top, ticks)


def net_promoter(scores: Sequence[int]) -> float | None:
    """The share of promoters (9-10) minus the share of detractors (0-6), in points from -100
    to 100; None for no answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)
