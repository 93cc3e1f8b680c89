"""The room's periodic jobs (see ``thirdway.clock.jobs``)."""

from __future__ import annotations

from django_tasks import task


@task()
def sweep_maintenance_schedules() -> dict[str, int]:
    from thirdway.playbooks.schedules import sweep

    return sweep()
