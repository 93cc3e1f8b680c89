"""The periodic jobs the clock enqueues, and how often.

A job is a Django task (``django_tasks.task``); the clock only enqueues it, a worker runs it.
Rooms add their jobs here, keyed by a stable name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
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


# Rooms above the clock are named by their task's path, so the clock imports none of them.
JOBS = (
    PeriodicJob(
        "webhooks.retry_due",
        dt.timedelta(minutes=1),
        "thirdway.tickets.webhooks.tasks.retry_due_webhooks",
    ),
    PeriodicJob(
        "sla.evaluate_clocks",
        dt.timedelta(minutes=1),
        "thirdway.tickets.tasks.evaluate_sla_clocks",
    ),
    PeriodicJob(
        "idempotency.forget_old",
        dt.timedelta(hours=1),
        "thirdway.tickets.tasks.forget_old_idempotency_answers",
    ),
    PeriodicJob("mail.poll", dt.timedelta(minutes=1), "thirdway.mail.tasks.poll_mailboxes"),
    PeriodicJob("mail.spool", dt.timedelta(seconds=30), "thirdway.mail.tasks.drain_spool"),
    PeriodicJob("mail.retry_due", dt.timedelta(minutes=1), "thirdway.mail.tasks.retry_due_mail"),
    PeriodicJob(
        "dispatch.reoptimise",
        dt.timedelta(seconds=settings.DISPATCH_REOPTIMISE_SECONDS),
        "thirdway.tickets.tasks.reoptimise_dispatch_queue",
    ),
    PeriodicJob(
        "dispatch.surge_release",
        dt.timedelta(minutes=1),
        "thirdway.tickets.tasks.release_surge_holds",
    ),
    PeriodicJob(
        "monitoring.run_due_checks",
        dt.timedelta(minutes=1),
        "thirdway.monitoring.tasks.run_due_checks",
    ),
    PeriodicJob(
        "monitoring.sweep", dt.timedelta(minutes=1), "thirdway.monitoring.tasks.sweep_monitoring"
    ),
    PeriodicJob(
        "monitoring.prune", dt.timedelta(hours=6), "thirdway.monitoring.tasks.prune_monitoring"
    ),
    PeriodicJob(
        "playbooks.sweep_schedules",
        dt.timedelta(minutes=5),
        "thirdway.playbooks.tasks.sweep_maintenance_schedules",
    ),
    PeriodicJob(
        "sessions.clear_expired",
        dt.timedelta(hours=1),
        "thirdway.clock.jobs.clear_expired_sessions",
    ),
    PeriodicJob(
        "sign_in_failures.forget_old",
        dt.timedelta(hours=1),
        "thirdway.accounts.tasks.forget_old_sign_in_failures",
    ),
    PeriodicJob(
        "vault.expiry_reminders",
        dt.timedelta(hours=1),
        "thirdway.vault.tasks.send_expiry_reminders",
    ),
    PeriodicJob(
        "vault.rdap_domains",
        dt.timedelta(days=1),
        "thirdway.vault.tasks.check_domains_by_rdap",
    ),
    PeriodicJob(
        "vault.archive_expired_files",
        dt.timedelta(hours=1),
        "thirdway.vault.tasks.archive_expired_files",
    ),
    PeriodicJob(
        "vault.rescan_files",
        dt.timedelta(minutes=15),
        "thirdway.vault.tasks.rescan_unscanned_files",
    ),
    PeriodicJob(
        "insights.daily_snapshots",
        dt.timedelta(hours=1),
        "thirdway.insights.tasks.take_daily_snapshots",
    ),
    PeriodicJob(
        "insights.client_reports",
        dt.timedelta(hours=1),
        "thirdway.insights.tasks.run_client_reports",
    ),
    PeriodicJob(
        "insights.nps_surveys",
        dt.timedelta(hours=1),
        "thirdway.insights.tasks.send_nps_surveys",
    ),
    PeriodicJob(
        "billing.renew_contracts",
        dt.timedelta(hours=1),
        "thirdway.billing.tasks.renew_due_contracts",
    ),
    PeriodicJob(
        "billing.apply_successions",
        dt.timedelta(hours=1),
        "thirdway.billing.tasks.apply_due_successions",
    ),
    PeriodicJob(
        "billing.claw_back_referrals",
        dt.timedelta(hours=1),
        "thirdway.billing.tasks.claw_back_referrals",
    ),
    PeriodicJob(
        "billing.standing_order_instalments",
        dt.timedelta(hours=1),
        "thirdway.billing.tasks.post_standing_order_instalments",
    ),
    PeriodicJob(
        "tasks.prune_finished", dt.timedelta(days=1), "thirdway.clock.jobs.prune_finished_tasks"
    ),
)
# A backup every THIRDWAY_BACKUP_EVERY_HOURS, unless that is 0 (docs/operations.md).
if settings.BACKUP_EVERY_HOURS:
    JOBS += (
        PeriodicJob(
            "backup.scheduled",
            dt.timedelta(hours=settings.BACKUP_EVERY_HOURS),
            "thirdway.backup.tasks.take_scheduled_backup",
        ),
    )
