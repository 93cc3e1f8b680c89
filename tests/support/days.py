"""Dates read when a test runs, not when its module loads: a run may cross midnight."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    """Today in the current zone, read now."""
    return timezone.localdate()


class Days(int):
    """A date given in a test's parameters as days from today; ``resolved`` makes it the date
    when the test runs (parameters are built when the module loads)."""

    def date(self) -> dt.date:
        return today() + dt.timedelta(days=int(self))


def resolved(values: dict, *, iso: bool = False) -> dict:
    """``values`` with every ``Days`` made into its date (ISO text with ``iso``)."""
    return {
        key: (
            (value.date().isoformat() if iso else value.date())
            if isinstance(value, Days)
            else value
        )
        for key, value in values.items()
    }
