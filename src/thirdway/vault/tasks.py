"""The vault's periodic job: reminders of expiring items (see clock/jobs.py)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_expiry_reminders() -> None:
    from thirdway.vault.services.expirations import send_due_reminders

    send_due_reminders()


@task()
def archive_expired_files() -> None:
    from thirdway.vault.services.files import archive_expired

    archive_expired()
