"""Idempotent POSTs: a request retried with the same ``Idempotency-Key`` gets the first answer.

A client that lost the answer to a POST (a timeout, a dropped connection) sends it again with
the same key and must not create a second ticket or article.  Keys are per user.

1. Claim.  The request inserts its ``IdempotentRequest`` row (user, key, fingerprint of method,
   path and body) in a transaction of its own, committed before any work starts.  The unique
   constraint on (user, key) lets exactly one request win, however many arrive at once.
2. Work.  The winner runs the view, and stores the status and JSON body it answers in the same
   transaction as the work: an answer is stored exactly when the work is committed.  An answer
   that is an error of the request (4xx) is stored too; the work of such a request was rolled
   back, so a retry would get the same answer anyway.
3. Wait.  A request that lost the claim polls the row until the answer is stored and replays
   it (same status, same JSON body, plus ``Idempotent-Replayed: true``).  It waits at most
   ``IDEMPOTENCY_WAIT_SECONDS`` (setting, default 10 s), then answers 409 with ``Retry-After``.
4. Failure.  When the winner fails (an unexpected error, a 5xx), its claim is deleted, so the
   next retry, or a request still waiting, runs the work afresh.
5. Misuse.  The same key with another method, path or body is a 422 that says so.

Answers are kept for a day; a claim without an answer is abandoned after ten minutes (a
process that died mid-request), after which the key may be used again.

Use it under the route decorator::

    @router.post("/tickets", response={201: TicketOut})
    @idempotent
    def create_ticket(request, payload: TicketIn): ...
"""

import contextlib
import datetime as dt
import functools
import hashlib
import json
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja.decorators import decorate_view

from thirdway.tickets.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = IdempotentRequest._meta.get_field("key").max_length
KEEP_ANSWERS = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(minutes=10)
POLL_SECONDS = 0.05
RETRY_AFTER_SECONDS = 1


def idempotent(view):
    """Make a ninja POST view answer retries with the same ``Idempotency-Key`` only once."""

    @functools.wraps(view)
    def once(request: HttpRequest, *args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return view(request, *args, **kwargs)
        operation = getattr(request, "_idempotency_operation", None)
        if operation is None:
            raise ImproperlyConfigured("@idempotent goes below the route decorator.")
        key = _checked_key(raw_key)
        claim = _claim(request.auth, key, fingerprint(request))
        if isinstance(claim, HttpResponse):
            return claim
        return _answer(request, operation, claim, lambda: view(request, *args, **kwargs))

    # The answer is stored as ninja serialises it, so the operation is needed at request time;
    # a run decorator is re-applied to each mounted copy of the operation, so it is always ours.
    return decorate_view(_remember_operation)(once)


def _remember_operation(run):
    operation = run.__self__

    @functools.wraps(run)
    def remembered(request, *args, **kwargs):
        request._idempotency_operation = operation
        return run(request, *args, **kwargs)

    return remembered


def _checked_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {
                HEADER: ValidationError(
                    "The idempotency key is empty, too long or not printable ASCII.",
                    params={"allowed": f"1 to {MAX_KEY_LENGTH} printable ASCII characters"},
                )
            }
        )
    return key


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, the path with its query and the body (JSON in canonical form;
    multipart as its fields and the names, sizes and digests of its files)."""
    digest = hashlib.sha256()

    def add(*parts) -> None:
        for part in parts:
            digest.update(part if isinstance(part, bytes) else str(part).encode())
            digest.update(b"\0")

    add(request.method, request.get_full_path())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            add("field", name, *request.POST.getlist(name))
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                add("file", name, upload.name, upload.size, content.hexdigest())
        return digest.hexdigest()
    body = request.body
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    add("body", body)
    return digest.hexdigest()


def _wait_seconds() -> float:
    return float(getattr(settings, "IDEMPOTENCY_WAIT_SECONDS", 10))


def _claim(user, key: str, fingerprint: str) -> IdempotentRequest | HttpResponse:
    """Our claim on the key, or the answer to give instead (replay, mismatch, in progress)."""
    deadline = time.monotonic() + _wait_seconds()
    while True:
        claim = _insert_claim(user, key, fingerprint)
        if claim is not None:
            return claim
        while True:
            row = IdempotentRequest.objects.filter(user=user, key=key).first()
            if row is None:
                break  # the request that held the key failed: claim it again
            if _expired(row):
                IdempotentRequest.objects.filter(pk=row.pk, created_at=row.created_at).delete()
                break
            if row.fingerprint != fingerprint:
                return _mismatch()
            if row.status_code is not None:
                return _replay(row)
            if time.monotonic() >= deadline:
                return _in_progress()
            time.sleep(POLL_SECONDS)


def _insert_claim(user, key: str, fingerprint: str) -> IdempotentRequest | None:
    """Insert our claim unless the key is taken: one statement, its own transaction."""
    now = timezone.now()
    quote = connection.ops.quote_name
    table = IdempotentRequest._meta.db_table
    columns = ", ".join(quote(c) for c in ("user_id", "key", "fingerprint", "created_at"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} ({columns}) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({quote('user_id')}, {quote('key')}) DO NOTHING RETURNING {quote('id')}",
            [user.pk, key, fingerprint, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IdempotentRequest(pk=row[0], user=user, key=key, fingerprint=fingerprint, created_at=now)


def _expired(row: IdempotentRequest) -> bool:
    age = timezone.now() - row.created_at
    return age > (ABANDONED_AFTER if row.status_code is None else KEEP_ANSWERS)


def forget_old_answers(now: dt.datetime | None = None) -> int:
    """Delete answers older than a day and abandoned claims; for a periodic job.  A key is
    also freed when it is used again after that time, so this only keeps the table small."""
    now = now or timezone.now()
    deleted, _ = IdempotentRequest.objects.filter(
        Q(status_code__isnull=False, created_at__lt=now - KEEP_ANSWERS)
        | Q(status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER)
    ).delete()
    return deleted


def _answer(request, operation, claim: IdempotentRequest, call) -> HttpResponse:
    """Run the view for our claim; store its answer with the work, or alone for a refusal."""
    try:
        with transaction.atomic():
            response = operation._result_to_response(
                request, call(), operation.api.create_temporal_response(request)
            )
            if response.status_code < 500:
                _store(claim, response)
                return response
            transaction.set_rollback(True)
    except Exception as error:
        try:
            response = operation.api.on_exception(request, error)
        except BaseException:
            _release(claim)
            raise
    except BaseException:
        _release(claim)
        raise
    if response.status_code < 500:
        _store(claim, response)  # the work was rolled back: the refusal is the answer
    else:
        _release(claim)
    return response


def _store(claim: IdempotentRequest, response: HttpResponse) -> None:
    content = getattr(response, "content", b"")
    body = json.loads(content) if content else None
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        status_code=response.status_code, response=body
    )


def _release(claim: IdempotentRequest) -> None:
    IdempotentRequest.objects.filter(pk=claim.pk, status_code__isnull=True).delete()


def _replay(row: IdempotentRequest) -> HttpResponse:
    if row.response is None:
        response = HttpResponse(status=row.status_code)
    else:
        response = JsonResponse(row.response, status=row.status_code, safe=False)
    response[REPLAYED_HEADER] = "true"
    return response


def _mismatch() -> HttpResponse:
    return JsonResponse(
        {
            "detail": (
                f"This {HEADER} was already used for another request (a different method, path "
                "or body). Send a new key for a new request; reuse a key only to retry the "
                "very same request."
            ),
            "errors": [
                {
                    "field": HEADER,
                    "problem": "The key belongs to another request.",
                    "allowed": "a new key, or this key with the request it was first used for",
                }
            ],
        },
        status=422,
    )


def _in_progress() -> HttpResponse:
    response = JsonResponse(
        {
            "detail": (
                f"A request with this {HEADER} is still in progress. Retry after "
                f"{RETRY_AFTER_SECONDS} s to get its answer."
            )
        },
        status=409,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
