"""How a file's bytes come in: a size-limiting upload handler put in place before anything
reads the body, the type sniffed from the bytes, and the antivirus hook.

The CSRF check reads ``request.POST``, which parses the whole body with the upload handlers in
place at that moment; so :class:`FileUploadLimitMiddleware` (placed before the CSRF check
runs) installs the limit first and parses the upload itself.  The CSRF check then runs as
usual on the parsed form: nothing is exempt.
"""

from __future__ import annotations

import json
import socket
import struct

import puremagic
from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

# Room for the multipart framing and the small fields around the file.
FRAMING_BYTES = 64 * 1024
API_PREFIX = "/api/v1/vault/files"
# The types a browser would run or render as a page: served as plain bytes instead.
ACTIVE_CONTENT = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript"}


class FileTooLarge(Exception):
    """A file over the size limit, or over the client's quota (nothing was stored)."""

    def __init__(self, field: str, problem: str, allowed: str, limit_bytes: int):
        super().__init__(problem)
        self.field, self.problem, self.allowed, self.limit_bytes = (
            field,
            problem,
            allowed,
            limit_bytes,
        )

    def payload(self) -> dict:
        error = {"field": self.field, "problem": self.problem, "allowed": self.allowed}
        return {"detail": self.problem, "limit_bytes": self.limit_bytes, "errors": [error]}


def size_limit_error(limit: int) -> FileTooLarge:
    mb = limit / 1048576
    return FileTooLarge(
        "file",
        f"The file is over the size limit of {limit} bytes ({mb:.0f} MB).",
        f"a file of at most {limit} bytes",
        limit,
    )


class SizeLimitHandler(FileUploadHandler):
    """Counts the bytes actually received and stops reading once they pass the limit: the
    rest of the body is never read and the temporary file is removed."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.vault_upload_over = self.limit  # type: ignore[attr-defined]
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def is_upload(request: HttpRequest) -> bool:
    if request.method not in ("POST", "PUT"):
        return False
    if not request.content_type.startswith("multipart/"):
        return False
    return request.path.startswith(API_PREFIX) or request.path.startswith("/vault/files/")


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    error = size_limit_error(limit)
    if request.path.startswith("/api/"):
        return HttpResponse(
            json.dumps(error.payload()), status=413, content_type="application/json"
        )
    return HttpResponse(error.problem, status=413, content_type="text/plain; charset=utf-8")


def _read_chunked(request: HttpRequest, limit: int) -> None:
    """A body sent with chunked transfer encoding has no length: read it up to just past the
    limit (the server de-chunks it and marks its end), never further."""
    cap = limit + FRAMING_BYTES + 1
    request._stream = LimitedStream(request.environ["wsgi.input"], cap)  # type: ignore[attr-defined]
    request.META["CONTENT_LENGTH"] = str(cap)


class FileUploadLimitMiddleware:
    """For file uploads to the vault: 413 at once when the declared length is over the limit
    (nothing read); otherwise stream the body to a temporary file through the size limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_upload(request):
            refused = self._receive(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _receive(self, request: HttpRequest) -> HttpResponse | None:
        limit = settings.VAULT_FILE_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            if not declared.isdigit():
                return HttpResponse("Bad Content-Length.", status=400)
            if int(declared) > limit + FRAMING_BYTES:
                return _too_large(request, limit)
        elif request.environ.get("wsgi.input_terminated"):
            _read_chunked(request, limit)
        request.upload_handlers = [
            SizeLimitHandler(request, limit),
            TemporaryFileUploadHandler(request),
        ]
        try:
            request.FILES  # noqa: B018 - parse now, through the limit
        except MultiPartParserError:
            return HttpResponse("The upload could not be read.", status=400)
        if getattr(request, "vault_upload_over", None):
            return _too_large(request, limit)
        return None


def sniff(head: bytes, name: str) -> str:
    """The type told by the first bytes (puremagic's table), else generic bytes; never a type
    a browser would run."""
    try:
        found = puremagic.from_string(head, mime=True) if head else ""
    except (puremagic.PureError, ValueError):
        found = ""
    if not found and head and _looks_like_text(head):
        found = "text/plain"
    found = found or "application/octet-stream"
    return "application/octet-stream" if found in ACTIVE_CONTENT else found


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


class VirusFound(Exception):
    """The antivirus named what it found."""


class ScannerUnavailable(Exception):
    """clamd could not be reached or gave no verdict: the file is refused, nothing stored
    (fail closed: a file is never kept unscanned while the scanner is on)."""

    MESSAGE = "The virus scanner is unavailable; nothing was stored. Try again later."

    def __init__(self, reason: str):
        super().__init__(f"{self.MESSAGE} ({reason})")
        self.reason = reason

    def payload(self) -> dict:
        return {"detail": self.MESSAGE, "reason": self.reason}


def scan(chunks, socket_path: str | None = None) -> None:
    """Send the bytes to clamd over its socket (INSTREAM) when THIRDWAY_CLAMD_SOCKET is set;
    raise VirusFound naming the signature.  Off when the setting is empty."""
    socket_path = socket_path if socket_path is not None else settings.VAULT_CLAMD_SOCKET
    if not socket_path:
        return
    try:
        answer = _instream(socket_path, chunks)
    except OSError as error:
        # Refused, no such socket, a timeout, a connection closed half-way.
        raise ScannerUnavailable(f"clamd at {socket_path}: {error.strerror or error}") from None
    text = answer.rstrip(b"\0").decode("utf-8", "replace")
    if text.endswith("FOUND"):
        raise VirusFound(text.removeprefix("stream: ").removesuffix(" FOUND"))
    if not text.endswith("OK"):
        raise ScannerUnavailable(f"clamd at {socket_path} answered {text[:200]!r}")


def _instream(socket_path: str, chunks) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(settings.VAULT_CLAMD_TIMEOUT)
        conn.connect(socket_path)
        conn.sendall(b"zINSTREAM\0")
        for chunk in chunks:
            conn.sendall(struct.pack("!L", len(chunk)) + chunk)
        conn.sendall(struct.pack("!L", 0))
        answer = b""
        while not answer.endswith(b"\0"):
            part = conn.recv(4096)
            if not part:
                break
            answer += part
    return answer
