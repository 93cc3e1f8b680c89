"""Files stored while the virus scanner was unreachable, and the setting that allows it.

With clamd configured (``THIRDWAY_CLAMD_SOCKET``) and unreachable, an upload is refused (503)
unless a practice admin chose to store such files: each is then kept with its version marked
``scan_pending``, shown as "not scanned" in the file browser and listed on the vault's settings
page, and the clock's job (:func:`rescan_pending`) scans it once clamd answers again.  A clean
version loses its mark; an infected one is deleted (its bytes, its row, its space) with a note
on its folder naming what was found, and the file goes too when it had no other version.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from thirdway.audit.models import Source
from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid, require
from thirdway.vault import uploads
from thirdway.vault.models import (
    ExpiryItem,
    FileNote,
    FileVersion,
    StoredFile,
    UnscannedFiles,
    VaultSettings,
)
from thirdway.vault.services._shared import scope

log = logging.getLogger(__name__)
BATCH = 100


def settings_of() -> VaultSettings:
    found = VaultSettings.objects.order_by("pk").first()
    if found is None:
        found, _ = VaultSettings.objects.get_or_create(pk=1)
    return found


def stores_unscanned() -> bool:
    return settings_of().unscanned_files == UnscannedFiles.STORE


@transaction.atomic
def update_settings(actor, *, unscanned_files: str, source: str) -> VaultSettings:
    require(
        actor is None or actor.is_practice_admin,
        "Only the practice admins may change the vault's settings.",
    )
    if unscanned_files not in UnscannedFiles.values:
        raise invalid(
            "unscanned_files",
            "Choose what happens to a file while the scanner is unreachable.",
            " or ".join(UnscannedFiles.values),
        )
    found = VaultSettings.objects.select_for_update().get(pk=settings_of().pk)
    before = snapshot(found, ["unscanned_files"])
    found.unscanned_files = unscanned_files
    found.save()
    changes = diff(before, snapshot(found, ["unscanned_files"]))
    if changes:
        record(actor, "vault.settings", found, source=source, changes=changes)
    return found


def pending_versions():
    return FileVersion.objects.filter(scan_pending=True).select_related(
        "file", "file__folder", "file__client"
    )


def _remove_infected(version: FileVersion, found: str) -> None:
    from thirdway.vault.services.files import release

    with transaction.atomic():
        stored_file = StoredFile.objects.select_for_update().get(pk=version.file_id)
        if not FileVersion.objects.filter(pk=version.pk, scan_pending=True).delete()[0]:
            return  # scanned or removed meanwhile
        release(stored_file.client, version.size, stored_file.folder_id)
        text = (
            f"The antivirus found {found} in {stored_file.name} (version {version.number}) "
            "when it was scanned after the scanner came back; that version was deleted."
        )
        FileNote.objects.create(
            client=stored_file.client, folder=stored_file.folder, body=text[: FileNote.MAX_BODY]
        )
        record(
            None,
            "file.infected",
            stored_file,
            source=Source.SYSTEM,
            scope=scope(stored_file.client),
            changes={"version": [version.number, None], "found": [None, found[:200]]},
        )
        remaining = stored_file.versions.order_by("-number").first()
        if remaining is None:
            ExpiryItem.objects.filter(stored_file=stored_file).delete()
            stored_file.delete()
        else:
            stored_file.version = remaining.number
            stored_file.size = remaining.size
            stored_file.content_type = remaining.content_type
            stored_file.save()
        key = version.storage_key
        transaction.on_commit(lambda: default_storage.delete(key))


def rescan_pending(limit: int = BATCH) -> dict[str, int]:
    """Scan up to ``limit`` versions stored unscanned; stop at the first sign that the
    scanner is still unreachable.  What happened, counted."""
    done = {"clean": 0, "infected": 0, "left": 0}
    if not settings.VAULT_CLAMD_SOCKET:
        done["left"] = pending_versions().count()
        return done
    for version in pending_versions().order_by("pk")[:limit]:
        try:
            with default_storage.open(version.storage_key, "rb") as stored:
                uploads.scan(stored.chunks())
        except uploads.ScannerUnavailable as error:
            log.info("Files not scanned yet: %s", error.reason)
            break
        except uploads.VirusFound as found:
            _remove_infected(version, str(found))
            done["infected"] += 1
            continue
        except FileNotFoundError:
            log.warning("The bytes of file version %s are missing.", version.pk)
            continue
        if FileVersion.objects.filter(pk=version.pk, scan_pending=True).update(scan_pending=False):
            record(
                None,
                "file.scanned",
                version.file,
                source=Source.SYSTEM,
                scope=scope(version.file.client),
                changes={"version": [None, version.number]},
            )
            done["clean"] += 1
    done["left"] = pending_versions().count()
    return done
