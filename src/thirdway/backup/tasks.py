"""The backups the worker takes: the clock's scheduled one, and one an admin asked for."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django_tasks import task

from thirdway.backup import services


@task()
def take_scheduled_backup() -> str:
    """A backup into THIRDWAY_BACKUP_DIR, keeping the THIRDWAY_BACKUP_KEEP newest."""
    taken = services.take_backup(
        Path(settings.BACKUP_DIR),
        with_secrets=settings.BACKUP_WITH_SECRETS,
        keep=settings.BACKUP_KEEP,
    )
    return taken.archive.name


@task()
def take_backup_now() -> str:
    """A backup into THIRDWAY_BACKUP_DIR asked for from the admin page (removes none)."""
    taken = services.take_backup(
        Path(settings.BACKUP_DIR), with_secrets=settings.BACKUP_WITH_SECRETS
    )
    return taken.archive.name
