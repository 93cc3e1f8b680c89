"""The vault's periodic jobs: reminders of expiring items, files past their date, domain
expiry dates from RDAP, files stored while the virus scanner was unreachable (see
clock/jobs.py)."""

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


@task()
def check_domains_by_rdap() -> None:
    from thirdway.vault.services.rdap_checks import check_due_domains

    check_due_domains()


@task()
def rescan_unscanned_files() -> None:
    from thirdway.vault.services.scanning import rescan_pending

    rescan_pending()
