"""Taking a backup while the desk works, restoring one into an empty installation, and keeping
the newest few.

A backup is one archive (``archive.py``): the database dump, the stored files (attachments)
and the mail spool's waiting messages, with a manifest of checksums and the migrations applied.
The secret key goes in a file of its own beside the archive, only when asked, readable by its
owner alone.  A restore checks everything before it writes, and writes only into an empty
database and empty folders.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from thirdway.backup import database, secret_parts
from thirdway.backup.archive import (
    PREFIX,
    BackupRefused,
    Manifest,
    Writer,
    archive_name,
    extract,
    order_key,
    secrets_name,
    verify,
)

log = logging.getLogger(__name__)
FILES, SPOOL = "files", "mail-spool"
SPOOL_UNFINISHED = "tmp"  # messages still being written by the pipe: not yet received


@dataclass(frozen=True)
class Taken:
    """A backup just written."""

    archive: Path
    secrets: Path | None
    manifest: Manifest
    removed: list[Path]
    # What the secrets file could not hold (e.g. a vault master key not configured here).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Restored:
    """What a restore put in place."""

    manifest: Manifest
    files: int
    secret_key: Path | None
    # What the rooms' parts of the secrets file did (e.g. the vault's master key put back).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Kept:
    """One archive in the backup folder, as the admin page lists it."""

    name: str
    size: int
    taken_at: dt.datetime
    has_secrets: bool


def _version() -> str:
    try:
        return metadata.version("thirdway")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _files_root() -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def _trees() -> dict[str, Path]:
    """The folders a backup holds, by their name in the archive."""
    return {FILES: _files_root(), SPOOL: Path(settings.MAIL_SPOOL_DIR)}


def _files_of(prefix: str, root: Path) -> list[tuple[Path, str]]:
    found = []
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        relative = path.relative_to(root)
        if prefix == SPOOL and relative.parts[0] == SPOOL_UNFINISHED:
            continue
        if path.is_file() and not path.is_symlink():
            found.append((path, f"{prefix}/{relative.as_posix()}"))
    return found


# --- taking ------------------------------------------------------------------------------------


def take_backup(directory: Path, *, with_secrets: bool = False, keep: int | None = None) -> Taken:
    """Write one archive of the whole installation into ``directory`` while it keeps working;
    with ``keep``, then remove all but the ``keep`` newest archives there."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    name = archive_name(now.strftime("%Y%m%dT%H%M%SZ"), lambda n: (directory / n).exists())
    writer = Writer(directory / name)
    try:
        with tempfile.TemporaryDirectory(prefix="thirdway-backup-", dir=directory) as scratch:
            described, migrations, dump = _dump_database(Path(scratch))
            writer.add(dump, described["dump"])
        # Files after the database: every file a dumped row names already exists.
        for prefix, root in _trees().items():
            for path, arcname in _files_of(prefix, root):
                writer.add(path, arcname)
        secrets, warnings = (
            _write_secrets(directory / secrets_name(name)) if with_secrets else (None, [])
        )
        manifest = Manifest(
            created_at=now.isoformat().replace("+00:00", "Z"),
            thirdway_version=_version(),
            database=described,
            migrations=migrations,
            secrets=secrets.name if secrets else None,
        )
        archive = writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    removed = prune(directory, keep) if keep else []
    log.info("backup: wrote %s (%d files)", archive, len(manifest.files))
    return Taken(archive, secrets, manifest, removed, warnings)


def _dump_database(scratch: Path) -> tuple[dict[str, Any], dict[str, list[str]], Path]:
    config = connection.settings_dict
    if database.vendor(config) == "sqlite":
        dump = scratch / database.SQLITE_DUMP
        if connection.in_atomic_block:
            raise BackupRefused("A backup cannot be taken inside a database transaction.")
        connection.ensure_connection()
        if connection.is_in_memory_db():  # type: ignore[attr-defined]
            live = connection.connection  # the test suite's database: only this one sees it
            described = database.copy_sqlite(live, dump)
        else:
            # a connection of its own, outside whatever this process's Django is doing
            with closing(sqlite3.connect(config["NAME"], timeout=30)) as live:
                described = database.copy_sqlite(live, dump)
        return described, database.sqlite_migrations(dump), dump
    dump = scratch / database.POSTGRES_DUMP
    with connection.cursor() as cursor:
        migrations = database.postgres_migrations(cursor)
    server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
    return database.dump_postgres(config, server_major, dump), migrations, dump


def _write_secrets(path: Path) -> tuple[Path, list[str]]:
    """The secret key and the rooms' registered secrets (the vault's master keys), in a file
    only its owner can read, created anew (never overwritten); warnings of what is missing."""
    kept_parts: dict[str, Any] = {}
    warnings: list[str] = []
    for part in secret_parts.parts():
        kept_parts[part.name], said = part.export()
        warnings += said
    data = {"format": 1, "secret_key": settings.SECRET_KEY, "parts": kept_parts}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)
    os.chmod(path, 0o600)  # whatever the umask
    return path, warnings


# --- keeping -----------------------------------------------------------------------------------


def archives(directory: Path) -> list[Path]:
    """The backup archives in ``directory``, oldest first (other files are not ours)."""
    if not directory.is_dir():
        return []
    found = [path for path in directory.iterdir() if order_key(path.name) and path.is_file()]
    return sorted(found, key=lambda path: order_key(path.name) or ("", 0))


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest archives (and their secrets files); those removed."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    removed = archives(directory)[:-keep]
    for path in removed:
        path.unlink(missing_ok=True)
        (directory / secrets_name(path.name)).unlink(missing_ok=True)
    return removed


def kept(directory: Path) -> list[Kept]:
    """The archives of ``directory``, newest first, for the admin page."""
    listed = []
    for path in reversed(archives(directory)):
        stamp = path.name.removeprefix(PREFIX)[:16]
        taken_at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        has_secrets = (directory / secrets_name(path.name)).exists()
        listed.append(Kept(path.name, path.stat().st_size, taken_at, has_secrets))
    return listed


# --- restoring ---------------------------------------------------------------------------------


def check_archive(path: Path) -> Manifest:
    """Prove the archive whole and its schema known to this Thirdway; its manifest."""
    manifest = verify(path)
    _require_known_schema(manifest)
    return manifest


def _require_known_schema(manifest: Manifest) -> None:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    for app, names in sorted(manifest.migrations.items()):
        for name in names:
            if (app, name) not in known:
                raise BackupRefused(
                    f"The backup's schema is newer than this Thirdway: app {app!r} has "
                    f"migration {name!r}, which this version ({_version()}) does not know. "
                    f"Restore it with Thirdway {manifest.thirdway_version} or newer; nothing "
                    "was restored."
                )


def restore_backup(path: Path, *, secrets: Path | None = None) -> Restored:
    """Restore an archive into this installation, which must be empty: its database without
    tables, its files and spool folders without files.  Nothing is written unless every check
    passes."""
    manifest = check_archive(path)
    config = connection.settings_dict
    if manifest.database.get("vendor") != database.vendor(config):
        raise BackupRefused(
            f"This backup holds a {manifest.database.get('vendor')} database; this installation "
            f"uses {database.vendor(config)} (THIRDWAY_DATABASE_URL). Point it at a "
            f"{manifest.database.get('vendor')} database to restore."
        )
    secret_key, parts = _read_secrets(secrets) if secrets else (None, {})
    _require_empty(config)
    dump_name = str(manifest.database["dump"])
    with tempfile.TemporaryDirectory(prefix="thirdway-restore-", dir=_scratch_of(config)) as tmp:
        dump = Path(tmp) / dump_name
        extract(path, manifest, lambda name: dump if name == dump_name else None)
        _load_database(config, manifest, dump)
    # The database first: should the files fail, the message says what to empty again.
    trees = _trees()

    def place(name: str) -> Path | None:
        prefix, _, rest = name.partition("/")
        return trees[prefix] / rest if prefix in trees and rest else None

    try:
        written = extract(path, manifest, place)
    except (BackupRefused, OSError) as error:
        raise BackupRefused(
            f"The database was restored but the files were not ({error}). Empty the database "
            "and the files folder, then restore again."
        ) from None
    key_file = _install_secret_key(secret_key) if secret_key else None
    notes: list[str] = []
    for name, kept_part in sorted(parts.items()):
        part = secret_parts.part(name)
        if part is None:
            notes.append(f"The secrets file's part {name!r} is not known here: left unused.")
        else:
            notes += part.restore(kept_part)
    log.info("backup: restored %s", path)
    return Restored(manifest, written, key_file, notes)


def _scratch_of(config: dict[str, Any]) -> Path:
    """Where the dump waits: beside the SQLite file, so it is moved, not copied, into place."""
    if database.vendor(config) == "sqlite":
        folder = Path(config["NAME"]).parent
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return Path(settings.HOME)


def _require_empty(config: dict[str, Any]) -> None:
    if database.vendor(config) == "sqlite":
        tables = database.sqlite_tables(Path(config["NAME"]))
        where = str(config["NAME"])
    else:
        with connection.cursor() as cursor:
            tables = database.postgres_tables(cursor)
        connection.close()
        where = f"PostgreSQL database {config['NAME']!r}"
    if tables:
        raise BackupRefused(
            f"{where} already holds {len(tables)} tables: a backup is restored only into an "
            "empty database, so nothing is overwritten. Point THIRDWAY_DATABASE_URL at a new "
            "database (PostgreSQL: createdb) or THIRDWAY_HOME at a new folder, then restore "
            "again; nothing was restored."
        )
    for prefix, root in _trees().items():
        if _files_of(prefix, root):
            raise BackupRefused(
                f"{root} already holds files: a backup is restored only into an empty "
                "installation. Use a new THIRDWAY_HOME (or empty that folder); nothing was "
                "restored."
            )


def _load_database(config: dict[str, Any], manifest: Manifest, dump: Path) -> None:
    if database.vendor(config) == "sqlite":
        database.load_sqlite(dump, Path(config["NAME"]))
    else:
        database.load_postgres(config, dump, int(manifest.database.get("pg_dump_major", 0)))
        # pg_restore brings no planner statistics: without them a search guesses how many
        # tickets a word matches and may read them all (docs/service-desk-performance.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connection.close()


def _read_secrets(path: Path) -> tuple[str, dict[str, Any]]:
    """The secret key and the rooms' parts (none in files written before parts existed)."""
    try:
        data = json.loads(path.read_text())
        key, parts = data["secret_key"], data.get("parts", {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupRefused(
            f"{path} is not a secrets file written by thirdway backup --with-secrets ({error})."
        ) from None
    if not isinstance(key, str) or len(key) < 50:
        raise BackupRefused(f"{path} holds no usable secret key.")
    if not isinstance(parts, dict):
        raise BackupRefused(f"{path} has a malformed 'parts' entry (an object was expected).")
    return key, parts


def _install_secret_key(key: str) -> Path:
    """Make the backup's key this installation's: the key file in THIRDWAY_HOME."""
    path = Path(settings.HOME) / "secret_key"
    partial = path.with_name("secret_key.restoring")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    os.replace(partial, path)
    return path
