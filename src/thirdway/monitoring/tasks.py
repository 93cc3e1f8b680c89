"""The room's periodic jobs (see ``thirdway.clock.jobs``)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_due_checks() -> int:
    from thirdway.monitoring.runner import run_due_checks as run

    return run()


@task(priority=10)  # ahead of the queue: an alert's ticket waits on it
def evaluate_agent_results() -> dict[str, int]:
    """Evaluate agents' results stored since (``pending_results``); more than a run's worth
    left is another run, enqueued at once."""
    from thirdway.monitoring.pending_results import evaluate_pending

    counts = evaluate_pending()
    if counts["left"]:
        evaluate_agent_results.enqueue()
    return counts


@task()
def sweep_monitoring() -> dict[str, int]:
    from thirdway.monitoring.evaluation import sweep

    return sweep()


@task()
def prune_monitoring() -> dict[str, int]:
    """Delete results, batch ids, timeline events and webhook bodies older than the retention."""
    from thirdway.monitoring.ingest_store import prune

    return prune()
