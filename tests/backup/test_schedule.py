"""Backups on the clock's schedule, the newest few kept, and the admin's backups page."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from thirdway.backup import database, services
from thirdway.backup.archive import BackupRefused
from thirdway.backup.tasks import take_backup_now, take_scheduled_backup
from thirdway.clock.jobs import JOBS

pytestmark = pytest.mark.django_db


def _old_archives(folder, stamps):
    folder.mkdir(exist_ok=True)
    for stamp in stamps:
        (folder / f"thirdway-backup-{stamp}.tar.gz").write_bytes(b"old")
        (folder / f"thirdway-backup-{stamp}.secrets.json").write_text("{}")


def test_retention_keeps_the_newest_n_with_their_secrets_and_touches_nothing_else(tmp_path):
    _old_archives(tmp_path, ["20261101T000000Z", "20261102T000000Z", "20261102T000000Z-2"])
    (tmp_path / "notes.txt").write_text("mine")
    removed = services.prune(tmp_path, keep=2)
    assert [path.name for path in removed] == ["thirdway-backup-20261101T000000Z.tar.gz"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "notes.txt",
        "thirdway-backup-20261102T000000Z-2.secrets.json",
        "thirdway-backup-20261102T000000Z-2.tar.gz",
        "thirdway-backup-20261102T000000Z.secrets.json",
        "thirdway-backup-20261102T000000Z.tar.gz",
    ]


def test_the_clock_takes_a_backup_every_configured_hours():
    (job,) = [job for job in JOBS if job.name == "backup.scheduled"]
    assert job.every == dt.timedelta(hours=24)
    assert job.task_path == "thirdway.backup.tasks.take_scheduled_backup"


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_backup_writes_a_whole_archive_and_keeps_the_newest(cast, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEEP = 2
    _old_archives(settings.BACKUP_DIR, ["20200101T000000Z", "20200102T000000Z"])
    name = take_scheduled_backup.call()
    assert sorted(p.name for p in services.archives(settings.BACKUP_DIR)) == [
        "thirdway-backup-20200102T000000Z.tar.gz",
        name,
    ]
    manifest = services.check_archive(settings.BACKUP_DIR / name)
    assert manifest.secrets is None
    assert "0001_initial" in manifest.migrations["tickets"]
    assert not list(settings.BACKUP_DIR.glob(name.replace(".tar.gz", ".secrets.json")))


@pytest.mark.django_db(transaction=True)
def test_a_practice_admin_sees_the_backups_and_can_ask_for_one(cast, web_as, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    taken = services.take_backup(settings.BACKUP_DIR, with_secrets=True)
    admin = web_as(cast.admin)
    page = admin.get("/backups/").content.decode()
    assert taken.archive.name in page
    assert "written apart" in page
    assert "Back up now" in page
    answer = admin.post("/backups/now/")
    assert answer.status_code == 302
    assert DBTaskResult.objects.filter(task_path=take_backup_now.module_path).count() == 1


@pytest.mark.parametrize("who", ["partner", "desk", "associate", "client_admin", "outsider"])
def test_nobody_else_sees_the_backups_page_or_asks_for_a_backup(cast, web_as, who):
    client = web_as(getattr(cast, who))
    assert client.get("/backups/").status_code == 404
    assert client.post("/backups/now/").status_code == 404
    assert not DBTaskResult.objects.exists()


def test_asking_for_a_backup_takes_a_post(cast, web_as):
    assert web_as(cast.admin).get("/backups/now/").status_code == 405


def test_a_pg_dump_older_than_the_server_is_refused_naming_the_version_to_install(
    tmp_path, monkeypatch
):
    old = tmp_path / "bin" / "pg_dump"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.4'\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", str(old.parent))
    with pytest.raises(BackupRefused) as refused:
        database.dump_postgres({"NAME": "thirdway"}, 15, tmp_path / "dump")
    assert "pg_dump 12 cannot dump a PostgreSQL 15 server" in str(refused.value)
    assert "postgresql-client-15" in str(refused.value)
    assert not (tmp_path / "dump").exists()
