"""The room's periodic jobs (see ``thirdway.clock.jobs``)."""

from __future__ import annotations

from django_tasks import task


@task()
def renew_due_contracts() -> dict[str, int]:
    from thirdway.audit.models import Source
    from thirdway.billing.renewals import renew_due_contracts as renew

    return renew(source=Source.SYSTEM)
