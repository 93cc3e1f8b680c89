"""The periodic jobs the clock enqueues, and how often.

A job is a Django task (``django_tasks.task``); the clock only enqueues it, a worker runs it.
Rooms add their jobs here, keyed by a stable name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.management import call_command
from django_tasks import task


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    task_path: str


@task()
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@task()
def prune_finished_tasks() -> None:
    """Keep two weeks of finished task results, so the queue table stays small."""
    call_command("prune_db_task_results", min_age_days=14, verbosity=0)


JOBS = (
    PeriodicJob(
        "sessions.clear_expired",
        dt.timedelta(hours=1),
        "thirdway.clock.jobs.clear_expired_sessions",
    ),
    PeriodicJob(
        "tasks.prune_finished", dt.timedelta(days=1), "thirdway.clock.jobs.prune_finished_tasks"
    ),
)
