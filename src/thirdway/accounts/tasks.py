"""Background work of the accounts room."""

from __future__ import annotations

from django_tasks import task

from thirdway.accounts import services


@task()
def forget_old_sign_in_failures() -> int:
    return services.forget_old_sign_in_failures()
