"""When an expiring item is due a reminder: steps are days before the expiry date.

Pure: imports no Django and nothing of ours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

DEFAULT_STEPS = (60, 30, 14, 7, 1)
MAX_STEPS = 10
MAX_DAYS = 3650
STEPS_ALLOWED = (
    f"up to {MAX_STEPS} whole numbers of days from 0 to {MAX_DAYS}, separated by commas, "
    "e.g. 60,30,14,7,1"
)


def parse_steps(text: str) -> tuple[int, ...]:
    """Steps from ``"60, 30, 14"``, largest first; ValueError saying what is wrong."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("Give at least one reminder step.")
    if len(parts) > MAX_STEPS:
        raise ValueError(f"At most {MAX_STEPS} reminder steps.")
    steps = set()
    for part in parts:
        if not part.isdigit() or int(part) > MAX_DAYS:
            raise ValueError(f"{part[:20]!r} is not a number of days from 0 to {MAX_DAYS}.")
        steps.add(int(part))
    return tuple(sorted(steps, reverse=True))


def format_steps(steps: Iterable[int]) -> str:
    return ",".join(str(step) for step in sorted(set(steps), reverse=True))


def due_steps(
    expires_on: dt.date, steps: Iterable[int], today: dt.date, sent: Iterable[int]
) -> list[int]:
    """The steps whose day has come and that were not yet sent, largest first."""
    done = set(sent)
    return [
        step
        for step in sorted(set(steps), reverse=True)
        if step not in done and today >= expires_on - dt.timedelta(days=step)
    ]


def next_step(
    expires_on: dt.date, steps: Iterable[int], today: dt.date, sent: Iterable[int]
) -> tuple[int, dt.date] | None:
    """The next reminder (step, its day) still to come, or None."""
    done = set(sent)
    for step in sorted(set(steps), reverse=True):
        day = expires_on - dt.timedelta(days=step)
        if step not in done and day >= today:
            return step, day
    return None
