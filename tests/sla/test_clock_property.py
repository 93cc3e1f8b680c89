"""Property: a clock's elapsed business time, with pauses, equals a minute-by-minute count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from thirdway.sla import engine

MINUTE = timedelta(minutes=1)
CALENDARS = [
    engine.Calendar.from_hours(
        "Europe/Paris",
        {d: ["09:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        {date(2026, 3, 31)},
    ),
    engine.Calendar.from_hours(
        "America/New_York", {d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    ),
    engine.Calendar.from_hours("Australia/Sydney", {d: ["00:00-24:00"] for d in ("sat", "sun")}),
]
# Around the March changes of Paris and New York (and Sydney's April change).
BASE = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
SPAN = 40 * 24 * 60


def brute_elapsed(calendar, start, pauses, now) -> int:
    seconds = 0
    t = start
    while t < now:
        paused = any(p.start <= t and (p.end is None or t < p.end) for p in pauses)
        if not paused and engine.is_open(calendar, t):
            seconds += 60
        t += MINUTE
    return seconds


@st.composite
def pause_lists(draw):
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, SPAN))
        length = draw(st.one_of(st.none(), st.integers(0, 5 * 24 * 60)))
        end = None if length is None else BASE + (start + length) * MINUTE
        pauses.append(engine.Pause(BASE + start * MINUTE, end))
    return pauses


@settings(max_examples=40, deadline=None)
@given(
    which=st.integers(0, len(CALENDARS) - 1),
    start=st.integers(0, SPAN // 2),
    length=st.integers(0, SPAN // 2),
    pauses=pause_lists(),
)
def test_elapsed_with_pauses_matches_a_minute_by_minute_count(which, start, length, pauses):
    calendar = CALENDARS[which]
    started, now = BASE + start * MINUTE, BASE + (start + length) * MINUTE
    # Facts known at `now`: a pause starting later is ignored, one ending later is ongoing.
    known = [
        engine.Pause(p.start, None if p.end is None or p.end > now else p.end)
        for p in pauses
        if p.start <= now
    ]
    clock = engine.SlaClock("c", started, 3600, tuple(pauses))
    state = engine.evaluate_clock(calendar, clock, now)
    assert state.elapsed_seconds == brute_elapsed(calendar, started, known, now)
    if not state.paused:
        assert state.due_at is not None
        assert engine.business_seconds_between(calendar, state.due_at, state.due_at) == 0
