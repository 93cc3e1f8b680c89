"""The antivirus hook: with THIRDWAY_CLAMD_SOCKET set every new file's bytes go to clamd
(INSTREAM); a file it names is refused and nothing is stored."""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from support.vault_files import API, tree, upload
from thirdway.vault.models import FileQuota, FileVersion, StoredFile

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _serve(server: socket.socket, seen: list[bytes]) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            command = b""
            while not command.endswith(b"\0"):
                command += conn.recv(1)
            data = b""
            while True:
                (size,) = struct.unpack("!L", _exactly(conn, 4))
                if not size:
                    break
                data += _exactly(conn, size)
            seen.append(data)
            found = b"Eicar-Test-Signature FOUND" if EICAR in data else b"OK"
            conn.sendall(b"stream: " + found + b"\0")


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += conn.recv(size - len(data))
    return data


@pytest.fixture
def clamd(settings):
    """A stand-in clamd speaking the INSTREAM protocol on a Unix socket."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    path = folder / "clamd.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    seen: list[bytes] = []
    thread = threading.Thread(target=_serve, args=(server, seen), daemon=True)
    thread.start()
    settings.VAULT_CLAMD_SOCKET = str(path)
    yield seen
    server.close()
    path.unlink(missing_ok=True)
    folder.rmdir()


def test_a_file_the_antivirus_names_is_refused_and_nothing_is_stored(cast, api_as, clamd):
    root, _, _ = tree(cast)
    paula = api_as(cast.partner)
    answer = upload(paula, root.pk, "invoice.com", EICAR)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["field"] == "file" and "Eicar-Test-Signature" in error["problem"]
    assert StoredFile.objects.count() == 0
    assert not FileQuota.objects.filter(client=cast.acme, used_bytes__gt=0).exists()
    assert upload(paula, root.pk, "clean.txt", b"hello").status_code == 201
    assert clamd == [EICAR, b"hello"]


def test_without_the_setting_nothing_is_scanned(cast, api_as, settings):
    settings.VAULT_CLAMD_SOCKET = ""
    root, _, _ = tree(cast)
    assert upload(api_as(cast.partner), root.pk, "eicar.txt", EICAR).status_code == 201


@pytest.fixture
def closing_clamd(settings):
    """A socket that accepts and closes at once, as a clamd dying under load would."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    path = folder / "clamd.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)

    def close_each() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=close_each, daemon=True).start()
    settings.VAULT_CLAMD_SOCKET = str(path)
    yield path
    server.close()
    path.unlink(missing_ok=True)
    folder.rmdir()


def _assert_refused_unscanned(answer, used_before: int, cast) -> None:
    assert answer.status_code == 503, answer.content
    body = answer.json()
    assert body["detail"].startswith("The virus scanner is unavailable; nothing was stored.")
    assert "clamd at" in body["reason"]
    quota = FileQuota.objects.filter(client=cast.acme).first()
    assert (quota.used_bytes if quota else 0) == used_before


def test_a_scanner_that_is_not_there_refuses_the_upload_with_503(cast, api_as, settings, tmp_path):
    root, _, _ = tree(cast)
    paula = api_as(cast.partner)
    settings.VAULT_CLAMD_SOCKET = ""
    first = upload(paula, root.pk, "first.txt", b"12345").json()
    settings.VAULT_CLAMD_SOCKET = str(tmp_path / "absent" / "clamd.sock")
    _assert_refused_unscanned(upload(paula, root.pk, "new.txt", b"hello"), 5, cast)
    answer = paula.post(
        f"{API}/{first['id']}/copy",
        {"folder": root.pk, "name": "c"},
        content_type="application/json",
    )
    _assert_refused_unscanned(answer, 5, cast)
    assert list(StoredFile.objects.values_list("name", flat=True)) == ["first.txt"]
    assert FileVersion.objects.count() == 1


def test_a_scanner_that_hangs_up_refuses_the_upload_with_503(cast, api_as, closing_clamd):
    root, _, _ = tree(cast)
    _assert_refused_unscanned(upload(api_as(cast.partner), root.pk, "a.txt", b"x" * 70000), 0, cast)
    assert StoredFile.objects.count() == 0


def test_the_upload_page_says_the_scanner_is_unavailable(cast, web_as, closing_clamd):
    root, _, _ = tree(cast)
    answer = web_as(cast.partner).post(
        f"/vault/files/folders/{root.pk}/upload/",
        {"file": ContentFile(b"hello", name="a.txt")},
    )
    assert answer.status_code == 503
    assert b"The virus scanner is unavailable; nothing was stored." in answer.content
    assert StoredFile.objects.count() == 0
