"""The insights room's periodic jobs: the daily snapshots and the client reports (see
clock/jobs.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task


@task()
def take_daily_snapshots() -> None:
    """Yesterday's figures (complete) and today's so far; each day's rows replaced whole, so
    running it again, or twice at once, leaves one row per subject and day."""
    from thirdway.insights import snapshots

    today = timezone.now().astimezone(dt.UTC).date()
    snapshots.take(today - dt.timedelta(days=1))
    snapshots.take(today)


@task()
def run_client_reports() -> dict:
    """Drafts of the periods that ended for every scheduled client; releases of the drafts
    older than the practice's auto-release days (each period reported and mailed once)."""
    from thirdway.insights import services

    return services.run_report_schedules()


@task()
def send_nps_surveys() -> int:
    """The quarter's recommendation question to every contact not asked yet, once the
    practice's day of the quarter is reached (each contact claimed once: never mailed twice)."""
    from thirdway.insights import nps

    return nps.send_due_surveys()
