"""The simulated partner pool: each partner's cover (shifts and on-call), absences and missed
shifts, level, languages and capacity, as the simulation (:mod:`thirdway.dispatch.simulator`)
and its policies read them.

Like the engines, this module imports nothing from Django.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from thirdway.dispatch import engine
from thirdway.dispatch import realism as real
from thirdway.dispatch.engine.cover import merge_spans, partner_cover
from thirdway.dispatch.scenario import Scenario, SimTicket, at


class Partners:
    """The partner pool in index (id) order, with each partner's cover and queue."""

    def __init__(self, scenario: Scenario) -> None:
        start = scenario.start_s - 86_400
        days = math.ceil((scenario.end_s - start) / 86_400) + 2
        self.index = engine.PartnerIndex(scenario.partners, start=at(start), days=days)
        self.states = self.index.partners
        self.capacity = np.array([p.capacity for p in self.states], dtype=np.int64)
        self.row_of = {p.id: row for row, p in enumerate(self.states)}
        spans = [partner_cover(p, start, start + days * 86_400) for p in self.states]
        self.shifts = [shifts for shifts, _, _ in spans]
        self.cover = [_starts_ends(merge_spans([*shifts, *calls])) for shifts, calls, _ in spans]
        self.absences = [_starts_ends(absences) for _, _, absences in spans]
        # Missed shifts (realism.sick) are cut from the cover the simulation runs on; the
        # dispatcher learns of one when it starts (``known_cover``).
        self.sick = real.sick_spans(scenario, self.shifts)
        self.planned = self.cover
        self.on_shift_cover = [_starts_ends(s) for s in self.shifts]
        if any(self.sick):
            self.cover = [
                _starts_ends(_without(merge_spans([*s, *c]), sick))
                for (s, c, _), sick in zip(spans, self.sick, strict=True)
            ]
            self.absences = [
                _starts_ends(merge_spans([*a, *sick]))
                for (_, _, a), sick in zip(spans, self.sick, strict=True)
            ]
            self.on_shift_cover = [
                _starts_ends(_without(s, sick))
                for s, sick in zip(self.shifts, self.sick, strict=True)
            ]
        self.urgent_only = scenario.realism.on_call_urgent_only

    def __len__(self) -> int:
        return len(self.states)

    def level(self, row: int, practice: str) -> int:
        return self.states[row].level_in(practice)

    def absent(self, row: int, t: int) -> bool:
        """Whether the partner is away (on leave, ill) at ``t``."""
        starts, ends = self.absences[row]
        k = bisect_right(starts, t) - 1
        return k >= 0 and t < ends[k]

    def next_cover(self, row: int, t: int) -> float:
        """``t`` if the partner is covered at ``t``, else when cover next starts (or inf)."""
        return _next(self.cover[row], t)

    def known_cover(self, row: int, t: int, now: int) -> float:
        """:meth:`next_cover` as known at ``now``: missed shifts that have not begun by
        then are not known yet."""
        when = _next(self.planned[row], t)
        for start, end in self.sick[row]:
            if start <= now and start <= when < end:
                when = _next(self.planned[row], end)
        return when

    def next_shift(self, row: int, t: int) -> float:
        """``t`` if the partner is on shift (not only on call) at ``t``, else when a shift
        next starts (or inf)."""
        return _next(self.on_shift_cover[row], t)

    def may_start(self, row: int, ticket: SimTicket, t: int) -> bool:
        """Whether the partner starts ``ticket`` at ``t``: with on-call urgent-only, a
        partner covered by on-call alone starts P1 and P2 only."""
        return (
            not self.urgent_only or ticket.priority in real.URGENT or self.next_shift(row, t) == t
        )

    def speaks(self, row: int, ticket: SimTicket) -> bool:
        return ticket.language is None or ticket.language in self.states[row].languages

    def away_starts(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """(start, row) of every absence or missed shift beginning in (lo, hi]."""
        return sorted(
            (s, row)
            for row, (starts, _) in enumerate(self.absences)
            for s in starts
            if lo < s <= hi
        )


def _next(cover: tuple[list[int], list[int]], t: int) -> float:
    starts, ends = cover
    k = bisect_right(starts, t) - 1
    if k >= 0 and t < ends[k]:
        return t
    return starts[k + 1] if k + 1 < len(starts) else math.inf


def _without(
    spans: Sequence[tuple[int, int]], holes: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Sorted disjoint ``spans`` with the (sorted, disjoint) ``holes`` cut out."""
    out = []
    for start, end in spans:
        for h_start, h_end in holes:
            if h_end <= start or h_start >= end:
                continue
            if h_start > start:
                out.append((start, h_start))
            start = max(start, h_end)
            if start >= end:
                break
        if start < end:
            out.append((start, end))
    return out


def _starts_ends(spans: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Cover (shifts and on-call, absences removed) as sorted start and end lists."""
    return [s for s, _ in spans], [e for _, e in spans]
