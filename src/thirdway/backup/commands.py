"""``thirdway backup`` and ``thirdway restore``: what they print and the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django.conf import settings

from thirdway.backup import services
from thirdway.backup.archive import BackupRefused


def backup(args: argparse.Namespace) -> int:
    directory = Path(args.to) if args.to else Path(settings.BACKUP_DIR)
    try:
        taken = services.take_backup(directory, with_secrets=args.with_secrets, keep=args.keep)
    except BackupRefused as error:
        print(f"thirdway: backup failed: {error}", file=sys.stderr)
        return 2
    size = taken.archive.stat().st_size
    print(f"Backup written: {taken.archive} ({_size(size)}, {len(taken.manifest.files)} files)")
    if taken.secrets:
        print(f"Secret key and vault master keys written apart: {taken.secrets} (keep it safe)")
    for warning in taken.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    for path in taken.removed:
        print(f"Removed old backup: {path.name}")
    return 0


def restore(args: argparse.Namespace) -> int:
    archive = Path(args.archive)
    try:
        if args.check:
            manifest = services.check_archive(archive)
            print(
                f"{archive.name} is whole: {len(manifest.files)} files, taken "
                f"{manifest.created_at} by Thirdway {manifest.thirdway_version}."
            )
            return 0
        done = services.restore_backup(
            archive, secrets=Path(args.secrets) if args.secrets else None
        )
    except BackupRefused as error:
        print(f"thirdway: restore refused: {error}", file=sys.stderr)
        return 2
    print(
        f"Restored {archive.name} (taken {done.manifest.created_at}): the database and "
        f"{done.files} files."
    )
    if done.secret_key:
        print(f"Secret key restored into {done.secret_key}.")
    else:
        print(
            "The secret key was not restored (no --secrets): everyone signs in again, and the "
            "vault's credentials stay locked until its master key is given."
        )
    for note in done.notes:
        print(note)
    print("Start Thirdway as usual; serve applies any newer migrations.")
    return 0


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)
