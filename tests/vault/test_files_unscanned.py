"""The "store unscanned" setting: with clamd configured but unreachable an upload is refused
(503, the default) or, when a practice admin chose so, stored marked "not scanned", shown and
listed, and scanned by the clock's job once clamd is back (an infected version is deleted)."""

from __future__ import annotations

import pytest

from support.vault_files import put, tree, upload
from thirdway.audit.models import AuditRecord, Source
from thirdway.vault.models import FileNote, FileQuota, FileVersion, StoredFile, VaultSettings
from thirdway.vault.services import scanning

from .test_files_antivirus import EICAR, clamd  # noqa: F401 - the fixture


@pytest.fixture
def scanner_down(settings, tmp_path):
    settings.VAULT_CLAMD_SOCKET = str(tmp_path / "no-clamd.sock")


def store_unscanned() -> None:
    scanning.update_settings(None, unscanned_files="store", source=Source.CLI)


def test_by_default_an_upload_is_refused_while_the_scanner_is_unreachable(
    cast, api_as, scanner_down
):
    root, _, _ = tree(cast)
    answer = upload(api_as(cast.partner), root.pk, "plan.pdf", b"%PDF plan")
    assert answer.status_code == 503
    assert StoredFile.objects.count() == 0


def test_stored_unscanned_files_are_marked_shown_and_listed(cast, api_as, web_as, scanner_down):
    root, _, _ = tree(cast)
    store_unscanned()
    answer = upload(api_as(cast.partner), root.pk, "plan.pdf", b"%PDF plan")
    assert answer.status_code == 201, answer.content
    assert answer.json()["scanned"] is False
    assert FileVersion.objects.get().scan_pending
    page = web_as(cast.partner).get(f"/vault/files/folders/{root.pk}/").content.decode()
    assert "not scanned" in page
    listed = web_as(cast.admin).get("/vault/settings/").content.decode()
    assert "Files not scanned yet (1)" in listed and "plan.pdf" in listed
    # the web form says so as well
    form = web_as(cast.partner).post(
        f"/vault/files/folders/{root.pk}/upload/",
        {"file": _named(b"%PDF two", "two.pdf")},
        follow=True,
    )
    assert "two.pdf uploaded, not scanned" in form.content.decode()


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_the_clocks_job_scans_them_when_the_scanner_is_back(cast, scanner_down, request):
    root, _, _ = tree(cast)
    store_unscanned()
    clean = put(root, "clean.txt", b"hello")
    bad = put(root, "invoice.com", EICAR)
    kept = put(root, "report.txt", b"v1")
    scanning.update_settings(None, unscanned_files="refuse", source=Source.CLI)
    assert scanning.rescan_pending() == {"clean": 0, "infected": 0, "left": 3}  # still down
    seen = request.getfixturevalue("clamd")
    assert scanning.rescan_pending() == {"clean": 2, "infected": 1, "left": 0}
    assert EICAR in seen and b"hello" in seen
    assert not FileVersion.objects.filter(scan_pending=True).exists()
    assert not StoredFile.objects.filter(pk=bad.pk).exists()
    assert StoredFile.objects.filter(pk__in=[clean.pk, kept.pk]).count() == 2
    note = FileNote.objects.get(folder=root)
    assert "Eicar-Test-Signature" in note.body and "invoice.com" in note.body
    quota = FileQuota.objects.get(client=cast.acme).used_bytes
    assert quota == sum(FileVersion.objects.values_list("size", flat=True))
    assert AuditRecord.objects.filter(action="file.scanned").count() == 2
    assert AuditRecord.objects.filter(action="file.infected").count() == 1


def test_the_settings_page_is_for_practice_admins_and_refuses_bad_input(cast, web_as):
    admin = web_as(cast.admin)
    page = admin.get("/vault/settings/")
    assert (
        page.status_code == 200 and "When the virus scanner is unreachable" in page.content.decode()
    )
    answer = admin.post("/vault/settings/", {"unscanned_files": "maybe"})
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()
    assert scanning.settings_of().unscanned_files == "refuse"
    assert admin.post("/vault/settings/", {"unscanned_files": "store"}).status_code == 302
    assert VaultSettings.objects.get().unscanned_files == "store"
    assert AuditRecord.objects.filter(action="vault.settings").count() == 1
    assert web_as(cast.partner).get("/vault/settings/").status_code == 403
    assert (
        web_as(cast.partner).post("/vault/settings/", {"unscanned_files": "refuse"}).status_code
        == 403
    )
    assert web_as(cast.client_admin).get("/vault/settings/").status_code == 404
    assert VaultSettings.objects.get().unscanned_files == "store"
