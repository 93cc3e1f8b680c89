"""The room's periodic jobs (see ``thirdway.clock.jobs``)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_due_checks() -> int:
    from thirdway.monitoring.runner import run_due_checks as run

    return run()


@task()
def sweep_monitoring() -> dict[str, int]:
    from thirdway.monitoring.evaluation import sweep

    return sweep()


@task()
def prune_monitoring() -> dict[str, int]:
    """Delete results, batch ids, timeline events and webhook bodies older than the retention."""
    from thirdway.monitoring.ingest_store import prune

    return prune()
