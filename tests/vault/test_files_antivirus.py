"""The antivirus hook: with THIRDWAY_CLAMD_SOCKET set every new file's bytes go to clamd
(INSTREAM); a file it names is refused and nothing is stored."""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
from pathlib import Path

import pytest

from support.vault_files import tree, upload
from thirdway.vault.models import FileQuota, StoredFile

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
