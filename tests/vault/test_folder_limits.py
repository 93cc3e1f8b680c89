"""A folder's limit (its subfolders included) holds on every path that makes bytes, in the
same reservation as the quota, in parallel too; moves and purges keep its count true; the
folder page sets it and the quota display shows it."""

from __future__ import annotations

import pytest

from support.vault_files import API, parallel_puts, put, tree, upload
from thirdway.audit.models import AuditRecord, Source
from thirdway.vault.models import FileQuota, FileVersion, Folder, StoredFile
from thirdway.vault.services import file_moves, files, folder_limits
from thirdway.vault.uploads import FileTooLarge


def limit(folder: Folder, size: int | None) -> Folder:
    return folder_limits.set_folder_limit(None, folder, size, source=Source.CLI)


def used(folder: Folder) -> int:
    return Folder.objects.get(pk=folder.pk).used_bytes


def test_a_folder_limit_counts_its_subfolders_and_refuses_one_byte_more(cast, api_as):
    root, contracts, year = tree(cast)
    put(contracts, "old.bin", b"o" * 300)  # there before the limit: counted when it is set
    limit(contracts, 1000)
    assert used(contracts) == 300
    paula = api_as(cast.partner)
    assert upload(paula, year.pk, "a.bin", b"a" * 700).status_code == 201  # a subfolder
    assert used(contracts) == 1000
    answer = upload(paula, year.pk, "b.bin", b"b")
    assert answer.status_code == 413
    body = answer.json()
    assert "'Contracts'" in body["detail"] and "1000 bytes" in body["detail"]
    assert body["limit_bytes"] == 1000
    assert StoredFile.objects.count() == 2
    assert used(contracts) == 1000
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 1000  # the quota untouched
    assert upload(paula, root.pk, "elsewhere.bin", b"e" * 500).status_code == 201


def test_new_versions_copies_and_restores_are_held_to_the_limit(cast, api_as):
    _root, contracts, year = tree(cast)
    made = put(year, "plan.txt", b"p" * 400)
    limit(contracts, 1000)
    paula = api_as(cast.partner)
    files.copy_file(None, made, contracts, "copy.txt", source=Source.CLI)  # 800
    with pytest.raises(FileTooLarge):
        files.add_version(None, made, _file(b"q" * 300), source=Source.CLI)  # 1100
    answer = paula.post(f"{API}/{made.pk}/restore", {"version": 1}, content_type="application/json")
    assert answer.status_code == 413 and "Contracts" in answer.json()["detail"]
    answer = paula.post(f"{API}/{made.pk}/versions", {"file": _file(b"r" * 201, "r.txt")})
    assert answer.status_code == 413
    answer = paula.post(f"{API}/{made.pk}/versions", {"file": _file(b"r" * 200, "r.txt")})
    assert answer.status_code == 201
    assert used(contracts) == 1000 == sum(FileVersion.objects.values_list("size", flat=True))


def _file(data: bytes, name: str = "x.bin"):
    from django.core.files.base import ContentFile

    return ContentFile(data, name=name)


def test_moves_and_purges_keep_the_count_true(cast):
    root, contracts, year = tree(cast)
    outside = put(root, "big.bin", b"b" * 800)
    small = put(year, "small.bin", b"s" * 100)
    limit(contracts, 500)
    with pytest.raises(FileTooLarge):
        file_moves.move_file(None, outside, contracts, "big.bin", source=Source.CLI)
    assert used(contracts) == 100 and StoredFile.objects.get(pk=outside.pk).folder == root
    file_moves.move_file(None, small, root, "small.bin", source=Source.CLI)
    assert used(contracts) == 0
    # a folder moved in brings its bytes, and one over the limit is refused
    box = files.create_folder(None, root, "Box", source=Source.CLI)
    put(box, "inner.bin", b"i" * 450)
    file_moves.move_folder(None, box, contracts, "Box", source=Source.CLI)
    assert used(contracts) == 450
    heavy = files.create_folder(None, root, "Heavy", source=Source.CLI)
    put(heavy, "h.bin", b"h" * 100)
    with pytest.raises(FileTooLarge):
        file_moves.move_folder(None, heavy, year, "Heavy", source=Source.CLI)
    # the trash still counts; purging frees
    box.refresh_from_db()
    file_moves.trash_folder(None, box, source=Source.CLI)
    assert used(contracts) == 450
    file_moves.purge_folder(None, box, source=Source.CLI)
    assert used(contracts) == 0
    limit(contracts, None)
    assert Folder.objects.get(pk=contracts.pk).limit_bytes is None


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_never_overrun_a_folder_limit(cast, threads_db, settings):
    _root, contracts, year = tree(cast)
    limit(contracts, 10_000)
    use = threads_db()
    outcomes = parallel_puts(use, lambda number: year if number % 2 else contracts)
    with use():
        held = Folder.objects.get(pk=contracts.pk).used_bytes
        total = sum(FileVersion.objects.values_list("size", flat=True))
        quota = FileQuota.objects.get(client=cast.acme).used_bytes
    assert outcomes.count("stored") == 3 and outcomes.count("refused") == 5
    assert held == total == quota == 9000


def test_the_limit_is_set_on_the_folder_page_and_shown_with_the_quota(cast, web_as):
    _root, contracts, _year = tree(cast)
    page = web_as(cast.partner)
    url = f"/vault/files/folders/{contracts.pk}/limit/"
    answer = page.post(url, {"limit": "2 KB"})
    assert answer.status_code == 302
    assert Folder.objects.get(pk=contracts.pk).limit_bytes == 2048
    shown = page.get(f"/vault/files/folders/{contracts.pk}/").content.decode()
    assert "limit of the folder “Contracts”" in shown and 'value="2 KB"' in shown
    bar = page.get(f"/vault/clients/{cast.acme.pk}/files/quota/?folder={contracts.pk}")
    assert "limit of the folder “Contracts”" in bar.content.decode()
    for bad in ("lots", "0", "-5 MB", "9" * 25):
        answer = page.post(url, {"limit": bad})
        assert answer.status_code == 400, bad
        assert "Limit of this folder" in answer.content.decode()
        assert "Allowed:" in answer.content.decode()
    assert Folder.objects.get(pk=contracts.pk).limit_bytes == 2048
    assert page.post(url, {"limit": ""}).status_code == 302
    assert Folder.objects.get(pk=contracts.pk).limit_bytes is None
    assert AuditRecord.objects.filter(action="folder.limit").count() == 2


def test_only_writers_set_a_limit_and_other_clients_get_404(cast, web_as, api_as):
    root, contracts, _year = tree(cast)
    assert web_as(cast.client_user).post(
        f"/vault/files/folders/{contracts.pk}/limit/", {"limit": "1 MB"}
    ).status_code in (403, 404)
    api = f"{API}/folders/{contracts.pk}/limit"
    paula = api_as(cast.partner)
    answer = paula.put(api, {"limit_bytes": 5000}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["limit_bytes"] == 5000
    assert answer.json()["used_bytes"] == 0
    answer = paula.put(api, {"limit_bytes": 0}, content_type="application/json")
    assert answer.status_code in (400, 422) and "limit_bytes" in answer.content.decode()
    other = api_as(cast.other_client_admin)
    answer = other.put(api, {"limit_bytes": 1}, content_type="application/json")
    assert answer.status_code == 404
    assert Folder.objects.get(pk=contracts.pk).limit_bytes == 5000
    assert root.limit_bytes is None


def test_moving_into_a_full_folder_on_the_pages_is_a_413_naming_the_limit(cast, web_as):
    root, contracts, _year = tree(cast)
    limit(contracts, 100)
    big = put(root, "big.bin", b"b" * 500)
    box = files.create_folder(None, root, "Box", source=Source.CLI)
    put(box, "inner.bin", b"i" * 500)
    page = web_as(cast.partner)
    answer = page.post(f"/vault/files/{big.pk}/move/", {"folder": contracts.pk, "name": "big.bin"})
    assert (
        answer.status_code == 413 and "&#x27;Contracts&#x27; (100 bytes)" in answer.content.decode()
    )
    answer = page.post(
        f"/vault/files/folders/{box.pk}/move/", {"parent": contracts.pk, "name": "Box"}
    )
    assert answer.status_code == 413 and "(100 bytes)" in answer.content.decode()
    assert Folder.objects.get(pk=box.pk).parent_id == root.pk
    assert used(contracts) == 0
