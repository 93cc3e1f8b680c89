"""The quota and the size limit hold on every path that makes bytes, nothing is stored when
they refuse, and names cannot be paths."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from support.vault_files import API, parallel_puts, put, tree, upload
from thirdway.audit.models import Source
from thirdway.vault.models import FileQuota, FileVersion, StoredFile
from thirdway.vault.services import files
from thirdway.vault.uploads import FileTooLarge

LIMIT = 1000


def stored_bytes(settings) -> list[Path]:
    location = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in location.rglob("*") if p.is_file()]


@pytest.fixture
def acme_quota(cast, settings):
    root, _contracts, _year = tree(cast)
    files.set_quota(None, cast.acme, LIMIT, source=Source.CLI)
    return root


def test_a_file_exactly_at_the_quota_is_accepted_and_one_byte_more_is_not(
    cast, api_as, acme_quota, settings
):
    paula = api_as(cast.partner)
    answer = upload(paula, acme_quota.pk, "full.bin", b"\x01" * LIMIT)
    assert answer.status_code == 201, answer.content
    assert answer.json()["size"] == LIMIT
    answer = upload(paula, acme_quota.pk, "one-more.bin", b"\x01")
    assert answer.status_code == 413
    assert str(LIMIT) in answer.json()["detail"]
    assert answer.json()["limit_bytes"] == LIMIT
    assert StoredFile.objects.count() == 1
    assert len(stored_bytes(settings)) == 1
    assert FileQuota.objects.get(client=cast.acme).used_bytes == LIMIT


def test_the_quota_counts_the_bytes_received_not_the_declared_length(cast, api_as, acme_quota):
    body = b"\x02" * 600
    answer = upload(api_as(cast.partner), acme_quota.pk, "a.bin", body)
    assert answer.status_code == 201
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 600
    assert FileVersion.objects.get().size == 600


def test_new_versions_copies_and_restores_reserve_space_and_are_refused_over_it(
    cast, api_as, acme_quota, settings
):
    paula = api_as(cast.partner)
    made = put(acme_quota, "plan.txt", b"a" * 400)
    answer = paula.post(f"{API}/{made.pk}/versions", {"file": ContentFile(b"b" * 350, "p")})
    assert answer.status_code == 201
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 750
    answer = paula.post(
        f"{API}/{made.pk}/copy",
        {"folder": acme_quota.pk, "name": "copy.txt"},
        content_type="application/json",
    )
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["field"] == "file"
    answer = paula.post(f"{API}/{made.pk}/restore", {"version": 1}, content_type="application/json")
    assert answer.status_code == 413
    assert FileVersion.objects.count() == 2
    assert StoredFile.objects.count() == 1
    assert len(stored_bytes(settings)) == 2
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 750
    files.set_quota(None, cast.acme, 1150, source=Source.CLI)
    answer = paula.post(f"{API}/{made.pk}/restore", {"version": 1}, content_type="application/json")
    assert answer.status_code == 201
    assert answer.json()["number"] == 3
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 1150


def test_the_trash_counts_until_purged(cast, acme_quota):
    made = put(acme_quota, "old.txt", b"x" * 800)
    files.trash_file(None, made, source=Source.CLI)
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 800
    with pytest.raises(FileTooLarge):
        put(acme_quota, "new.txt", b"y" * 300)
    files.take_back(None, made, source=Source.CLI)
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 800
    files.trash_file(None, made, source=Source.CLI)
    assert files.purge_file(None, made, source=Source.CLI) == 800
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 0
    put(acme_quota, "new.txt", b"y" * 300)


class CountingInput(io.BytesIO):
    """A request body that remembers how much of it was read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def multipart(folder_id: int, size: int) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="folder"\r\n\r\n{folder_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + b"\x00" * size + tail, f"multipart/form-data; boundary={boundary}"


def raw_post(client, body: bytes, content_type: str, *, length: bool):
    stream = CountingInput(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": API,
        "CONTENT_TYPE": content_type,
        "wsgi.input": stream,
    }
    if length:
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    return client.request(**environ), stream


def test_a_declared_length_over_the_limit_is_refused_before_reading(cast, api_as, settings):
    settings.VAULT_FILE_MAX_BYTES = 100_000
    root, _, _ = tree(cast)
    body, kind = multipart(root.pk, 1_000_000)
    answer, stream = raw_post(api_as(cast.partner), body, kind, length=True)
    assert answer.status_code == 413
    assert answer.json()["limit_bytes"] == 100_000
    assert stream.taken == 0
    assert StoredFile.objects.count() == 0


def test_a_chunked_upload_without_length_stops_being_read_past_the_limit(cast, api_as, settings):
    settings.VAULT_FILE_MAX_BYTES = 100_000
    root, _, _ = tree(cast)
    body, kind = multipart(root.pk, 5_000_000)
    answer, stream = raw_post(api_as(cast.partner), body, kind, length=False)
    assert answer.status_code == 413, answer.content
    assert "100000 bytes" in answer.json()["detail"]
    assert stream.taken < 400_000
    assert StoredFile.objects.count() == 0
    assert stored_bytes(settings) == []


def test_a_chunked_upload_within_the_limit_is_stored(cast, api_as, settings):
    settings.VAULT_FILE_MAX_BYTES = 100_000
    root, _, _ = tree(cast)
    body, kind = multipart(root.pk, 100_000)
    answer, _ = raw_post(api_as(cast.partner), body, kind, length=False)
    assert answer.status_code == 201, answer.content
    assert answer.json()["size"] == 100_000


@pytest.mark.parametrize(
    "name", ["..", ".", "../etc/passwd", "a/b", "a\\b", "nul\x00.txt", "bell\x07", "x" * 256]
)
def test_names_that_are_paths_or_hold_control_characters_are_refused(
    cast, api_as, acme_quota, settings, name
):
    answer = upload(api_as(cast.partner), acme_quota.pk, name, b"data")
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "name"
    assert StoredFile.objects.count() == 0
    assert stored_bytes(settings) == []
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 0


def test_a_name_of_255_characters_is_accepted(cast, api_as, acme_quota):
    assert upload(api_as(cast.partner), acme_quota.pk, "x" * 255, b"data").status_code == 201


def test_the_type_comes_from_the_bytes_and_downloads_are_attachments(cast, api_as, acme_quota):
    paula = api_as(cast.partner)
    made = upload(paula, acme_quota.pk, "photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).json()
    assert made["content_type"] == "image/png"
    page = upload(paula, acme_quota.pk, "page.png", b"<html><script>alert(1)</script>").json()
    answer = paula.get(f"{API}/{page['id']}/download")
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Type"] != "text/html"


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_never_overrun_the_quota(cast, threads_db, settings):
    root, _, _ = tree(cast)
    files.set_quota(None, cast.acme, 10_000, source=Source.CLI)
    use = threads_db()
    outcomes = parallel_puts(use, lambda _number: root)
    with use():
        quota = FileQuota.objects.get(client=cast.acme)
        kept = StoredFile.objects.count()
        total = sum(FileVersion.objects.values_list("size", flat=True))
    assert outcomes.count("stored") == 3 and outcomes.count("refused") == 5
    assert kept == 3 and total == quota.used_bytes == 9000 <= quota.limit_bytes


def test_a_file_taken_back_from_the_trash_cannot_shadow_a_newer_one(cast, api_as, acme_quota):
    old = put(acme_quota, "plan.txt", b"old")
    files.trash_file(None, old, source=Source.CLI)
    put(acme_quota, "plan.txt", b"new")
    answer = api_as(cast.partner).post(f"{API}/{old.pk}/untrash")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "file"
    old.refresh_from_db()
    assert old.deleted_at is not None


def test_purging_a_file_or_a_folder_takes_its_expiry_items_with_it(cast, acme_quota):
    import datetime as dt

    from thirdway.vault.models import ExpiryItem
    from thirdway.vault.services import file_moves

    made = put(acme_quota, "licence.pdf", b"%PDF licence")
    files.set_expiry(None, made, dt.date(2027, 3, 1), source=Source.CLI)
    kept = put(acme_quota, "kept.pdf", b"%PDF kept")
    files.set_expiry(None, kept, dt.date(2027, 4, 1), source=Source.CLI)
    assert ExpiryItem.objects.filter(kind="file").count() == 2
    files.trash_file(None, made, source=Source.CLI)
    assert ExpiryItem.objects.filter(kind="file").count() == 2  # the trash can be undone
    files.purge_file(None, made, source=Source.CLI)
    assert list(ExpiryItem.objects.values_list("name", flat=True)) == ["kept.pdf"]

    folder = files.create_folder(None, acme_quota, "Old", source=Source.CLI)
    inner = files.create_folder(None, folder, "Inner", source=Source.CLI)
    deep = put(inner, "deep.pdf", b"%PDF deep")
    files.set_expiry(None, deep, dt.date(2027, 5, 1), source=Source.CLI)
    file_moves.trash_folder(None, folder, source=Source.CLI)
    file_moves.purge_folder(None, folder, source=Source.CLI)
    assert list(ExpiryItem.objects.values_list("name", flat=True)) == ["kept.pdf"]
