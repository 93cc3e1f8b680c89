"""Benchmark: uploading and downloading one large vault file through the whole Django stack
(middleware, size-limiting upload handler, API, storage), with the process's peak memory.

Run from the repository root on an empty database (SQLite under THIRDWAY_HOME, or PostgreSQL
with THIRDWAY_DATABASE_URL); it migrates, then makes its own admin and client:

    THIRDWAY_HOME=$(mktemp -d) .venv/bin/python bench/vault_files.py [--mb 256]

The request body is generated as it is read (never held in memory) and handed to Django's
WSGI handler as a server would; the download is read chunk by chunk.  ``peak_rss_mb_*`` is the
process's high-water mark (ru_maxrss) after each step: flat means the bytes streamed.  Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
os.environ.setdefault("THIRDWAY_VAULT_FILE_MAX_MB", "4096")
import django

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402

from thirdway.accounts import services as accounts  # noqa: E402
from thirdway.accounts.models import Role  # noqa: E402
from thirdway.audit.models import Source  # noqa: E402
from thirdway.clients import services as clients  # noqa: E402
from thirdway.vault.services import files  # noqa: E402

BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"
CHUNK = 1024 * 1024


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class GeneratedBody:
    """A multipart body whose file part is made of pseudo-random blocks as it is read."""

    def __init__(self, folder_id: int, size: int):
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="folder"\r\n\r\n'
            f"{folder_id}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; "
            'name="file"; filename="large.bin"\r\nContent-Type: application/octet-stream'
            "\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.length = len(self.head) + size + len(self.tail)
        self.position = 0
        self.block = hashlib.sha512(b"thirdway").digest() * (CHUNK // 64)
        self.digest = hashlib.sha256()

    def _byte_range(self, start: int, end: int) -> bytes:
        parts = []
        head_end = len(self.head)
        file_end = head_end + self.size
        if start < head_end:
            parts.append(self.head[start : min(end, head_end)])
        if end > head_end and start < file_end:
            a, b = max(start, head_end) - head_end, min(end, file_end) - head_end
            while a < b:
                offset = a % CHUNK
                take = min(b - a, CHUNK - offset)
                piece = self.block[offset : offset + take]
                self.digest.update(piece)
                parts.append(piece)
                a += take
        if end > file_end:
            parts.append(self.tail[max(start, file_end) - file_end : end - file_end])
        return b"".join(parts)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.length - self.position
        end = min(self.position + size, self.length)
        data = self._byte_range(self.position, end)
        self.position = end
        return data

    def readline(self, size: int = -1) -> bytes:  # WSGI asks for it; multipart never does
        return self.read(size)


def call(handler, environ: dict) -> tuple[str, object]:
    status = {}

    def start_response(code, headers, exc_info=None):
        status["code"] = code

    body = handler(environ, start_response)
    return status["code"], body


def environ_of(method: str, path: str, token: str, **extra) -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    size = parser.parse_args().mb * 1024 * 1024
    call_command("migrate", verbosity=0)
    admin = accounts.create_user(
        None,
        username="bench-admin",
        email="a@bench.example",
        role=Role.PRACTICE_ADMIN,
        source=Source.CLI,
    )
    client = clients.create_client(
        admin, name="Bench Client", time_zone="Europe/Paris", country="FR", source=Source.CLI
    )
    _, token = accounts.issue_token(admin, "bench", source=Source.CLI)
    root = files.root_of(client)
    handler = WSGIHandler()
    baseline = peak_mb()

    body = GeneratedBody(root.pk, size)
    started = time.perf_counter()
    code, answer = call(
        handler,
        environ_of(
            "POST",
            "/api/v1/vault/files",
            token,
            CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
            CONTENT_LENGTH=str(body.length),
            **{"wsgi.input": body},
        ),
    )
    upload_seconds = time.perf_counter() - started
    made = json.loads(b"".join(answer))
    answer.close()
    assert code.startswith("201"), (code, made)
    after_upload = peak_mb()

    started = time.perf_counter()
    code, answer = call(
        handler, environ_of("GET", f"/api/v1/vault/files/{made['id']}/download", token)
    )
    digest, received = hashlib.sha256(), 0
    for chunk in answer:
        digest.update(chunk)
        received += len(chunk)
    answer.close()
    download_seconds = time.perf_counter() - started
    assert code.startswith("200") and received == size
    assert digest.hexdigest() == body.digest.hexdigest()

    mb = size / 1048576
    print(
        json.dumps(
            {
                "file_mb": round(mb),
                "upload_seconds": round(upload_seconds, 2),
                "upload_mb_per_s": round(mb / upload_seconds, 1),
                "download_seconds": round(download_seconds, 2),
                "download_mb_per_s": round(mb / download_seconds, 1),
                "same_bytes": True,
                "peak_rss_mb_before": baseline,
                "peak_rss_mb_after_upload": after_upload,
                "peak_rss_mb_after_download": peak_mb(),
                "database": django.db.connection.vendor,
            }
        )
    )


if __name__ == "__main__":
    main()
