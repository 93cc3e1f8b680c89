"""When a heartbeat check expects its next ping: after a period, or at the next time its cron
expression fires, read on the wall clock of the client's time zone (so "0 2 * * *" is 02:00
there, summer and winter), plus the grace time.  Pure: no Django."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

MAX_EXPRESSION = 100
# A cron expression must fire at least once within this long, and never twice within a minute.
HORIZON_DAYS = 5 * 366
MIN_GAP = dt.timedelta(minutes=1)
ALLOWED = (
    "five fields (minute hour day month weekday), e.g. 0 2 * * *, firing at most once a minute"
)


def cron_problem(expression: str, zone: str = "UTC") -> str:
    """Why ``expression`` cannot be a heartbeat's schedule, or "" when it can."""
    if not expression.strip() or len(expression) > MAX_EXPRESSION:
        return f"Give a cron expression of at most {MAX_EXPRESSION} characters."
    start = dt.datetime.now(ZoneInfo(zone))
    try:
        fires = CronSim(expression, start)
        times = [next(fires) for _ in range(6)]
    except CronSimError as error:
        return f"That cron expression never fires or cannot be read: {error}."
    except StopIteration:
        return "That cron expression never fires."
    if times[0] - start > dt.timedelta(days=HORIZON_DAYS):
        return "That cron expression does not fire within five years."
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    if any(gap < MIN_GAP for gap in gaps):
        return "That cron expression fires more often than once a minute."
    return ""


def next_fire(expression: str, zone: str, after: dt.datetime) -> dt.datetime:
    """The first time after ``after`` that the expression fires, in UTC."""
    local = after.astimezone(ZoneInfo(zone)).replace(microsecond=0)
    return next(CronSim(expression, local)).astimezone(dt.UTC)


def late_after(
    after: dt.datetime,
    *,
    period_seconds: int,
    grace_seconds: int,
    cron: str = "",
    zone: str = "UTC",
) -> dt.datetime:
    """When a heartbeat pinged (or started, paused, made) at ``after`` becomes late."""
    grace = dt.timedelta(seconds=grace_seconds)
    if cron:
        return next_fire(cron, zone, after) + grace
    return after + dt.timedelta(seconds=period_seconds) + grace
