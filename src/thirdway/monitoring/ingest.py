"""What agents' check-ins share in a web process: who a secret is (kept a short while), each
agent's configuration (kept as long), and how many check-ins are being handled at once.

- **Secrets.**  An agent's secret is looked up by its SHA-256 digest and the answer (the agent's
  id and client) kept for ``AGENT_AUTH_CACHE_SECONDS`` (default 10, at most 30): revoking an agent
  refuses it at once in the process that revoked it and within that time in every other one.
  Unknown and revoked secrets are never kept (each costs a query, and the answer is a 401).
- **Configuration.**  What the heartbeat hands the agent (its checks, interval and etag) is kept
  as long: a changed check reaches the agent at the latest that long after its next heartbeat.
- **Overload.**  At most ``AGENT_INGEST_IN_FLIGHT`` check-ins are handled at once per process;
  one more is answered ``429`` with ``Retry-After: AGENT_RETRY_AFTER_SECONDS`` (the agent waits
  that long and keeps buffering), so a reconnect storm waits outside instead of piling up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from thirdway.accounts.models import token_digest
from thirdway.monitoring.models import Agent

AGENT_PREFIX = "twag_"


@dataclass(frozen=True)
class AgentKey:
    """Who a secret is: enough to store its check-ins without reading the agent's row."""

    pk: int
    client_id: int

    def as_agent(self) -> Agent:
        return Agent(pk=self.pk, client_id=self.client_id)


class _Kept:
    """Values by key for ``AGENT_AUTH_CACHE_SECONDS``, shared by a process's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[object, tuple[float, object]] = {}

    def get(self, key: object) -> object | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: object, value: object) -> None:
        seconds = settings.AGENT_AUTH_CACHE_SECONDS
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) > 200_000:  # bounded: start again rather than grow
                self._entries.clear()
            self._entries[key] = (time.monotonic() + seconds, value)

    def forget(self, key: object) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_secrets = _Kept()
_configs = _Kept()


def agent_of(secret: str) -> AgentKey | None:
    """The active agent a secret is (kept a short while), or None."""
    if not secret.startswith(AGENT_PREFIX) or len(secret) > 100:
        return None
    digest = token_digest(secret)
    found = _secrets.get(digest)
    if isinstance(found, AgentKey):
        return found
    row = (
        Agent.objects.filter(digest=digest, revoked_at__isnull=True)
        .values_list("pk", "client_id")
        .first()
    )
    if row is None:
        return None
    key = AgentKey(*row)
    _secrets.put(digest, key)
    return key


def config_for(agent: AgentKey) -> dict:
    """The agent's configuration (``agents.config_of``), kept a short while; a copy."""
    from thirdway.monitoring.agents import config_of

    found = _configs.get(agent.pk)
    if not isinstance(found, dict):
        found = config_of(agent.as_agent())
        _configs.put(agent.pk, found)
    return dict(found)


def forget(digest: str, agent_id: int) -> None:
    """An agent revoked in this process: refused at once here."""
    _secrets.forget(digest)
    _configs.forget(agent_id)


def forget_everything() -> None:
    _secrets.clear()
    _configs.clear()


class Gate:
    """A bounded count of check-ins in progress in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0

    def enter(self) -> bool:
        with self._lock:
            if self.in_flight >= settings.AGENT_INGEST_IN_FLIGHT:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


gate = Gate()


def busy_answer() -> tuple[dict, dict[str, str]]:
    """The body and headers of a 429: come back after ``Retry-After`` seconds."""
    seconds = settings.AGENT_RETRY_AFTER_SECONDS
    body = {
        "detail": f"The server is busy: try again in {seconds} seconds.",
        "retry_after_seconds": seconds,
    }
    return body, {"Retry-After": str(seconds)}
