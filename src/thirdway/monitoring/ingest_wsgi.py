"""The lean path of agents' heartbeats and results: a WSGI callable in front of Django.

``wrap(application)`` answers ``POST /api/v1/monitoring/agent/heartbeat`` and ``.../results``
itself when the request is an ordinary one (an allowed host, HTTPS when it is required, a JSON
body within the limit, an active agent's secret, a body the operation's schema accepts) and
hands every other request to Django, unchanged, with the body it read.  Django's operations
(``agent_api``) stay the reference: same schemas, same answers (tests compare them), and the
OpenAPI document describes them.  What the lean path skips is the per-request cost of the
middleware, the URL resolver and the ninja operation; what it adds is the secret and
configuration kept a short while (``ingest``) and last seen written in batches
(``ingest_store``).  Any refusal (401, 400, 413) is Django's own answer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable

import pydantic
from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from thirdway.monitoring import agent_api, ingest, ingest_store

PREFIX = "/api/v1/monitoring/agent/"
Answer = tuple[int, dict, dict[str, str]]
REASONS = {200: "200 OK", 429: "429 Too Many Requests"}


def _heartbeat(agent: ingest.AgentKey, payload: agent_api.AgentHeartbeatIn) -> Answer:
    now = timezone.now()
    skew = (payload.sent_at - now).total_seconds() if payload.sent_at is not None else None
    ingest_store.seen_later.note(agent.pk, now, skew, (payload.buffered, payload.dropped))
    config = ingest.config_for(agent)
    if payload.etag and payload.etag == config["etag"]:
        config["checks"] = None
    answer = agent_api.AgentHeartbeatOut(
        server_time=now, skew_seconds=skew, config=agent_api.AgentConfigOut(**config)
    )
    return 200, answer.model_dump(), _stamp(now)


def _results(agent: ingest.AgentKey, payload: agent_api.AgentResultsIn) -> Answer:
    now = timezone.now()
    results = [result.model_dump() for result in payload.results]
    batch, duplicate = ingest_store.store_batch(agent, payload.batch_id, results)
    ingest_store.seen_later.note(agent.pk, now)
    # ``AgentResultsOut`` as a dict: the values are the server's own, so building the schema
    # would only validate them again (the tests compare this answer with Django's).
    answer = {
        "batch_id": batch.batch_id,
        "accepted": batch.accepted,
        "duplicate": duplicate,
        "refused": [
            {"index": item["index"], "check_id": item["check_id"], "problem": item["problem"]}
            for item in batch.refused
        ],
        "server_time": now,
    }
    return 200, answer, _stamp(now)


ROUTES: dict[str, tuple[type[pydantic.BaseModel], Callable[..., Answer]]] = {
    PREFIX + "heartbeat": (agent_api.AgentHeartbeatIn, _heartbeat),
    PREFIX + "results": (agent_api.AgentResultsIn, _results),
}


def _stamp(now: dt.datetime) -> dict[str, str]:
    return {agent_api.SERVER_TIME_HEADER: now.isoformat()}


def _length(environ: dict) -> int | None:
    text = environ.get("CONTENT_LENGTH") or ""
    if not text.isdigit() or int(text) > agent_api.MAX_AGENT_BODY:
        return None
    return int(text)


def _ordinary(environ: dict) -> bool:
    """A request Django would let through to the operation (host, scheme, JSON body)."""
    if settings.USE_X_FORWARDED_HOST or (settings.SECURE_SSL_REDIRECT and not _secure(environ)):
        return False
    if not (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
        return False
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _secure(environ: dict) -> bool:
    if environ.get("wsgi.url_scheme") == "https":
        return True
    header = settings.SECURE_PROXY_SSL_HEADER
    return bool(header) and environ.get(header[0], "").split(",")[0].strip() == header[1]


def _valid(schema: type[pydantic.BaseModel], body: bytes) -> pydantic.BaseModel | None:
    try:
        data = json.loads(body)
        return schema.model_validate(data) if isinstance(data, dict) else None
    except ValueError:  # not JSON, or refused by the schema (pydantic's error is a ValueError)
        return None


def _bearer(environ: dict) -> str:
    scheme, _, secret = (environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


class LeanIngest:
    """The WSGI application: agents' heartbeats and results here, everything else to Django."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        length = _length(environ)
        if route is None or environ.get("REQUEST_METHOD") != "POST" or length is None:
            return self.application(environ, start_response)
        if not _ordinary(environ):
            return self.application(environ, start_response)
        body = environ["wsgi.input"].read(length)
        answer = self._answer(route, environ, body)
        if answer is None:  # Django says what is wrong, in its own words
            environ["wsgi.input"] = io.BytesIO(body)
            return self.application(environ, start_response)
        status, payload, headers = answer
        content = json.dumps(payload, cls=NinjaJSONEncoder).encode()
        start_response(
            REASONS[status],
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(content))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                *headers.items(),
            ],
        )
        return [content]

    def _answer(self, route, environ: dict, body: bytes) -> Answer | None:
        if not ingest.gate.enter():
            payload, headers = ingest.busy_answer()
            return 429, payload, headers
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            agent = ingest.agent_of(_bearer(environ))
            payload = _valid(route[0], body) if agent is not None else None
            return route[1](agent, payload) if payload is not None else None
        finally:
            ingest.gate.leave()
            signals.request_finished.send(sender=self.__class__)


def wrap(application: Callable) -> Callable:
    """``application`` with the lean path in front (unless ``AGENT_LEAN_INGEST`` is off)."""
    return LeanIngest(application) if settings.AGENT_LEAN_INGEST else application
