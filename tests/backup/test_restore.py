"""What a restore refuses, and that a refusal writes nothing: a damaged or truncated archive,
a schema newer than the code, a target that is not empty.  And the secret key: apart from the
archive, only when asked, readable by its owner alone."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path

import pytest

from support.installations import on_postgres

pytestmark = pytest.mark.django_db  # the suite's own database is not used; its server may be


def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of ``archive`` with each member's bytes passed through ``change(name, data)``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def _assert_nothing_restored(installation) -> None:
    assert installation.tables() == []
    assert installation.files() == {}


def test_a_damaged_archive_is_refused_and_nothing_is_restored(demo_backup, empty, tmp_path):
    def flip_a_byte(name: str, data: bytes) -> bytes:
        if name != "database.sqlite3" and name != "database.pgdump":
            return data
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    damaged = _rewrite(demo_backup, tmp_path / demo_backup.name, flip_a_byte)
    refused = empty.run("restore", str(damaged))
    assert refused.returncode == 2
    assert "the checksum of database." in refused.stderr
    assert "nothing was restored" in refused.stderr
    assert "Traceback" not in refused.stderr
    _assert_nothing_restored(empty)


def test_a_truncated_archive_is_refused(demo_backup, empty, tmp_path):
    truncated = tmp_path / demo_backup.name
    truncated.write_bytes(demo_backup.read_bytes()[: demo_backup.stat().st_size // 2])
    refused = empty.run("restore", str(truncated))
    assert refused.returncode == 2
    assert "damaged or incomplete" in refused.stderr
    _assert_nothing_restored(empty)


def test_a_backup_of_a_newer_schema_is_refused_naming_the_app_and_migration(
    demo_backup, empty, tmp_path
):
    def from_the_future(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["tickets"].append("9999_from_the_future")
        manifest["thirdway_version"] = "9.0.0"
        return json.dumps(manifest).encode()

    newer = _rewrite(demo_backup, tmp_path / demo_backup.name, from_the_future)
    refused = empty.run("restore", str(newer))
    assert refused.returncode == 2
    assert "app 'tickets' has migration '9999_from_the_future'" in refused.stderr
    assert "Thirdway 9.0.0 or newer" in refused.stderr
    _assert_nothing_restored(empty)


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(demo_backup, demo_copy):
    before = demo_copy.rows()
    refused = demo_copy.run("restore", str(demo_backup))
    assert refused.returncode == 2
    assert "already holds" in refused.stderr
    assert "restored only into an empty" in refused.stderr
    assert demo_copy.rows() == before


def test_check_proves_an_archive_whole_without_restoring_it(demo_backup, empty):
    checked = empty.run("restore", "--check", str(demo_backup))
    assert checked.returncode == 0, checked.stderr
    assert "is whole" in checked.stdout
    _assert_nothing_restored(empty)


def test_the_secret_key_is_written_apart_only_when_asked_readable_by_its_owner(
    demo, demo_backup, tmp_path
):
    key = (demo.home / "secret_key").read_text().strip()
    secrets = demo_backup.with_name(demo_backup.name.replace(".tar.gz", ".secrets.json"))
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert json.loads(secrets.read_text())["secret_key"] == key
    with tarfile.open(demo_backup, "r:gz") as archive:
        assert all(key.encode() not in archive.extractfile(m).read() for m in archive)

    plain = demo.run("backup", "--to", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    assert [path.name.endswith(".tar.gz") for path in (tmp_path / "plain").iterdir()] == [True]


def test_a_restore_with_the_secrets_file_brings_back_the_secret_key(demo, demo_backup, empty):
    secrets = demo_backup.with_name(demo_backup.name.replace(".tar.gz", ".secrets.json"))
    restored = empty.run("restore", str(demo_backup), "--secrets", str(secrets))
    assert restored.returncode == 0, restored.stderr
    key_file = empty.home / "secret_key"
    assert key_file.read_text() == (demo.home / "secret_key").read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert empty.rows()["accounts_user"] == demo.rows()["accounts_user"]


def test_a_restored_postgresql_database_has_planner_statistics(demo_backup, empty):
    """pg_restore brings no statistics; the restore takes them, so search plans are not guesses."""
    if not on_postgres():
        pytest.skip("planner statistics are PostgreSQL's; SQLite's file is copied whole")
    restored = empty.run("restore", str(demo_backup))
    assert restored.returncode == 0, restored.stderr
    analysed = empty.shell(
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute(\"SELECT count(*) FROM pg_stats WHERE tablename = 'tickets_ticket' "
        "AND attname = 'search_all_vector'\")\n"
        "    print(cursor.fetchone()[0])\n"
    )
    assert analysed.strip() == "1"
