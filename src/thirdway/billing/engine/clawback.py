"""When a referral fee is clawed back: the client left within the practice's period from its
first invoice.  Pure Python, no Django."""

from __future__ import annotations

import datetime as dt


def whole_months(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (0 when ``end`` is before a month has passed; a
    month ends on the same day of the next month, or its last day when that day is missing)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and end.day < start.day and not _last_day(end):
        months -= 1
    return max(0, months)


def _last_day(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).month != day.month


def claws_back(period_months: int, first_invoice: dt.date, left_on: dt.date) -> bool:
    """True when a client that left on ``left_on`` left within ``period_months`` of its first
    invoice (a period of 0 claws nothing back)."""
    return period_months > 0 and whole_months(first_invoice, left_on) < period_months
