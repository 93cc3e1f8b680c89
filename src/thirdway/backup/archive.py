"""The backup archive: one gzip-compressed tar whose last member is ``manifest.json``.

Every other member is a regular file (the database dump, then the stored files) and the
manifest lists each with its size and SHA-256, so a restore can prove the whole archive intact
before it writes a byte.  The checksums find damage (a truncated copy, a flipped bit); they are
not a signature against someone who can rewrite the manifest too.  The format is described in
docs/operations.md.  Imports no Django and nothing of ours.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "thirdway-backup-"
SUFFIX = ".tar.gz"
SECRETS_SUFFIX = ".secrets.json"
# thirdway-backup-20261206T010203Z.tar.gz, or ...Z-2.tar.gz for a second one in that second
NAME = re.compile(r"^thirdway-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar\.gz$")
CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Entry:
    """One member of the archive as the manifest lists it."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """What an archive holds and the schema it was taken at."""

    created_at: str
    thirdway_version: str
    database: dict[str, Any]
    migrations: dict[str, list[str]]
    files: list[Entry] = field(default_factory=list)
    secrets: str | None = None
    format: int = FORMAT

    def as_json(self) -> bytes:
        data = {
            "format": self.format,
            "created_at": self.created_at,
            "thirdway_version": self.thirdway_version,
            "database": self.database,
            "migrations": self.migrations,
            "secrets": self.secrets,
            "files": [entry.__dict__ for entry in self.files],
        }
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> Manifest:
        try:
            data = json.loads(raw)
            version = int(data["format"])
            files = data["files"]
            if version > FORMAT:
                raise BackupRefused(
                    f"{where} is in backup format {version}; this Thirdway reads format "
                    f"{FORMAT} and older. Restore it with the Thirdway version that made it "
                    f"({data.get('thirdway_version', 'unknown')}) or a newer one."
                )
            return cls(
                format=version,
                created_at=str(data["created_at"]),
                thirdway_version=str(data["thirdway_version"]),
                database=dict(data["database"]),
                migrations={app: list(names) for app, names in data["migrations"].items()},
                files=[Entry(str(e["path"]), int(e["size"]), str(e["sha256"])) for e in files],
                secrets=data.get("secrets"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupRefused(f"{where} has a manifest Thirdway cannot read ({error}).") from None


class _Hashing:
    """A file read through, its SHA-256 and length counted on the way."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class Writer:
    """Writes an archive under a temporary name; :meth:`finish` adds the manifest and gives it
    its final name, so a half-written archive never looks like a backup."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.entries: list[Entry] = []
        self._tar = tarfile.open(self.partial, "w:gz", compresslevel=6)  # noqa: SIM115

    def add(self, source: Path, name: str) -> Entry | None:
        """Add one file as ``name``; None if it vanished before it could be read."""
        try:
            handle = source.open("rb")
        except FileNotFoundError:
            return None
        with handle:
            info = self._tar.gettarinfo(fileobj=handle, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            reader = _Hashing(handle)
            self._tar.addfile(info, reader)
        entry = Entry(name, reader.size, reader.digest.hexdigest())
        self.entries.append(entry)
        return entry

    def finish(self, manifest: Manifest) -> Path:
        manifest.files = list(self.entries)
        raw = manifest.as_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        info.mtime = int(time.time())
        info.mode = 0o644
        self._tar.addfile(info, io.BytesIO(raw))
        self._tar.close()
        with self.partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self) -> None:
        self._tar.close()
        self.partial.unlink(missing_ok=True)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


@contextmanager
def _refusing_damage(where: str) -> Iterator[None]:
    """A tar or gzip error while reading, as the refusal an operator can act on."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupRefused(
            f"{where} cannot be read to its end ({error}): the file is damaged or incomplete; "
            "nothing was restored. Use another copy of this backup or an older backup."
        ) from None


def _members(path: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """Each member of the archive with its contents, refusing anything but plain files with
    plain relative names (read it inside :func:`_refusing_damage`)."""
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or not _safe_name(member.name):
                raise BackupRefused(
                    f"{path.name} holds {member.name!r}, which is not a plain file with a "
                    "relative name: it was not made by thirdway backup; nothing was restored."
                )
            handle = tar.extractfile(member)
            assert handle is not None  # a regular file always has contents
            yield member, handle


def _digest(handle: IO[bytes]) -> tuple[int, str]:
    reader = _Hashing(handle)
    while reader.read(CHUNK):
        pass
    return reader.size, reader.digest.hexdigest()


def verify(path: Path) -> Manifest:
    """Read the whole archive and prove every member against the manifest; the manifest, or
    :class:`BackupRefused` naming the first thing wrong."""
    if not path.is_file():
        raise BackupRefused(f"{path} is not a file.")
    found: dict[str, tuple[int, str]] = {}
    raw_manifest: bytes | None = None
    with _refusing_damage(path.name):
        for member, handle in _members(path):
            if member.name == MANIFEST:
                raw_manifest = handle.read()
            else:
                found[member.name] = _digest(handle)
    if raw_manifest is None:
        raise BackupRefused(
            f"{path.name} has no {MANIFEST}: it is incomplete or not a Thirdway backup; "
            "nothing was restored."
        )
    manifest = Manifest.from_json(raw_manifest, path.name)
    listed = {entry.path: entry for entry in manifest.files}
    for name, entry in listed.items():
        if name not in found:
            raise BackupRefused(f"{path.name} lacks {name}, which its manifest lists.")
        if found[name] != (entry.size, entry.sha256):
            raise BackupRefused(
                f"{path.name}: the checksum of {name} does not match its manifest (the archive "
                "was damaged or changed after it was made); nothing was restored. Use another "
                "copy of this backup or an older backup."
            )
    extra = sorted(set(found) - set(listed))
    if extra:
        raise BackupRefused(f"{path.name} holds {extra[0]}, which its manifest does not list.")
    return manifest


def extract(path: Path, manifest: Manifest, place: Callable[[str], Path | None]) -> int:
    """Write each listed member where ``place`` says (None: skip it), checking each checksum
    again as it is written; the number of files written."""
    listed = {entry.path: entry for entry in manifest.files}
    written = 0
    with _refusing_damage(path.name):
        for member, handle in _members(path):
            entry = listed.get(member.name)
            target = place(member.name) if entry else None
            if entry is not None and target is not None:
                _write(path.name, member.name, handle, entry, target)
                written += 1
    return written


def _write(where: str, name: str, handle: IO[bytes], entry: Entry, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    with partial.open("wb") as out:
        reader = _Hashing(handle)
        while chunk := reader.read(CHUNK):
            out.write(chunk)
    if (reader.size, reader.digest.hexdigest()) != (entry.size, entry.sha256):
        partial.unlink()
        raise BackupRefused(f"{where} changed while it was being restored ({name}).")
    os.replace(partial, target)


def archive_name(stamp: str, taken: Callable[[str], bool]) -> str:
    """The archive's file name for a UTC ``stamp`` (20261206T010203Z), unique in its folder."""
    name = f"{PREFIX}{stamp}{SUFFIX}"
    number = 1
    while taken(name):
        number += 1
        name = f"{PREFIX}{stamp}-{number}{SUFFIX}"
    return name


def order_key(name: str) -> tuple[str, int] | None:
    """How archives sort, oldest first; None for a file that is not one of ours."""
    match = NAME.match(name)
    if match is None:
        return None
    return match.group(1), int(match.group(2) or 1)


def secrets_name(archive: str) -> str:
    return archive.removesuffix(SUFFIX) + SECRETS_SUFFIX
