"""Benchmark: evaluate 100,000 open SLA clocks and their escalations in one batch.

Run from the repository root:

    .venv/bin/python bench/sla_clocks.py [--tickets N] [--seed S]

Prints one JSON object.  ``seconds`` is the wall-clock time of the first (cold-cache) pass over
every clock, escalations included, which is what a worker pays after a restart; ``cpu_seconds``
is the CPU time of that pass (it does not grow when other processes compete for the cores);
``warm_seconds`` is a second pass at a later ``now`` on the same calendars, as when the sweep
runs again.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

try:
    from thirdway.sla import engine
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from thirdway.sla import engine

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# Public holidays are the caller's business: the engine only receives dates.
FRENCH_HOLIDAYS = frozenset(
    date(year, month, day)
    for year, dates in {
        2025: (
            (1, 1),
            (4, 21),
            (5, 1),
            (5, 8),
            (5, 29),
            (6, 9),
            (7, 14),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 25),
        ),
        2026: (
            (1, 1),
            (4, 6),
            (5, 1),
            (5, 8),
            (5, 14),
            (5, 25),
            (7, 14),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 25),
        ),
    }.items()
    for month, day in dates
) | {date(2025, 12, 24), date(2025, 12, 31)}  # the practice's own closed days

US_HOLIDAYS = frozenset(
    {
        date(2025, 11, 11),
        date(2025, 11, 27),
        date(2025, 12, 25),
        date(2026, 1, 1),
        date(2026, 1, 19),
    }
)
INDIAN_HOLIDAYS = frozenset({date(2025, 10, 2), date(2025, 10, 21), date(2025, 11, 5)})


def build_calendars() -> dict[str, engine.Calendar]:
    return {
        "paris": engine.Calendar.from_hours(
            "Europe/Paris", {d: ["08:00-12:00", "13:00-17:00"] for d in WEEKDAYS}, FRENCH_HOLIDAYS
        ),
        "new-york": engine.Calendar.from_hours(
            "America/New_York", {d: ["09:00-18:00"] for d in WEEKDAYS}, US_HOLIDAYS
        ),
        "kolkata": engine.Calendar.from_hours(
            "Asia/Kolkata",
            {d: ["09:30-13:30", "14:30-18:30"] for d in (*WEEKDAYS, "sat")},
            INDIAN_HOLIDAYS,
        ),
        "24x7": engine.Calendar.twenty_four_seven(),
    }


TARGETS = (30 * 60, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 40 * 3600, 120 * 3600)


def build_clocks(count: int, now: datetime, rng: random.Random) -> list[engine.SlaClock]:
    """Open tickets of mixed ages; a fifth have pauses, half of those still ongoing.

    A ticket's age is up to five times its target in real time (at most 30 days), so some
    clocks are fresh, some close to their due time and some long breached.
    """
    keys = ("paris", "paris", "new-york", "kolkata", "24x7")
    clocks = []
    for _ in range(count):
        target = rng.choice(TARGETS)
        started = now - timedelta(seconds=rng.randrange(min(5 * target, 30 * 86_400)))
        pauses: tuple[engine.Pause, ...] = ()
        if rng.random() < 0.2:
            pause_start = started + (now - started) * rng.random()
            if rng.random() < 0.5:
                pauses = (engine.Pause(pause_start),)
            else:
                pause_end = pause_start + (now - pause_start) * rng.random()
                pauses = (engine.Pause(pause_start, pause_end),)
        clocks.append(engine.SlaClock(rng.choice(keys), started, target, pauses))
    return clocks


POLICY = engine.EscalationPolicy(
    (
        engine.EscalationStep(50, "notify-assignee"),
        engine.EscalationStep(75, "notify-lead"),
        engine.EscalationStep(90, "notify-client-manager"),
        engine.EscalationStep(100, "page-on-call"),
    )
)


def sweep(
    calendars: dict[str, engine.Calendar],
    clocks: list[engine.SlaClock],
    fired: list[frozenset[int]],
    now: datetime,
) -> tuple[float, float, list[engine.ClockState], int]:
    """Evaluate every clock and its due escalations.

    Returns (wall seconds, CPU seconds, states, number of escalation steps due).
    """
    began, began_cpu = time.perf_counter(), time.process_time()
    states = engine.evaluate_many(calendars, clocks, now)
    steps_due = 0
    for state, already in zip(states, fired, strict=True):
        steps_due += len(POLICY.due(state, already))
    return time.perf_counter() - began, time.process_time() - began_cpu, states, steps_due


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20251027)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    # The Monday after the European DST change and before the American one.
    now = datetime(2025, 10, 27, 9, 30, tzinfo=UTC)
    calendars = build_calendars()
    clocks = build_clocks(args.tickets, now, rng)
    # Pretend earlier sweeps already fired the 50% step of about a third of the tickets.
    fired = [frozenset({50}) if rng.random() < 0.33 else frozenset() for _ in clocks]

    seconds, cpu_seconds, states, steps_due = sweep(calendars, clocks, fired, now)
    warm_seconds, _, _, _ = sweep(calendars, clocks, fired, now + timedelta(minutes=5))
    print(
        json.dumps(
            {
                "tickets": len(clocks),
                "seconds": round(seconds, 3),
                "per_ticket_us": round(seconds / len(clocks) * 1e6, 2),
                "cpu_seconds": round(cpu_seconds, 3),
                "warm_seconds": round(warm_seconds, 3),
                "warm_per_ticket_us": round(warm_seconds / len(clocks) * 1e6, 2),
                "breached": sum(state.breached for state in states),
                "paused": sum(state.paused for state in states),
                "escalation_steps_due": steps_due,
            }
        )
    )


if __name__ == "__main__":
    main()
