"""A reconnect storm of agents in one asyncio loop: imported by ``agent_checkins.py``.

Each agent is a coroutine that starts at its own moment within the storm's seconds, sends its
heartbeat and then its results batch, and on a ``429`` waits the ``Retry-After`` it was given
(with jitter, as the agent does) without holding anything else up. Threads could not do this
for thousands of agents: an agent waiting out a ``Retry-After`` held its thread, and the
arrivals behind it came late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections import Counter

import httpx


async def _agent(
    http: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    agent: dict,
    n: int,
    start: float,
    deadline: float,
    seen: Counter,
) -> float | None:
    """One agent back after an outage; when it was done (monotonic), or None if it gave up."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    headers = {"Authorization": f"Bearer {agent['secret']}"}
    now = dt.datetime.now(dt.UTC).isoformat()
    result = {"check_id": agent["check"], "collected_at": now, "value": 42.0, "output": "storm"}
    calls = [
        ("heartbeat", {"etag": agent["etag"], "buffered": 1}),
        ("results", {"batch_id": f"storm-{n:06d}", "results": [result]}),
    ]
    for path, body in calls:
        while True:
            try:
                async with gate:  # httpx's pool slows down with thousands waiting on it
                    answer = await http.post(
                        f"/api/v1/monitoring/agent/{path}", json=body, headers=headers
                    )
                seen[answer.status_code] += 1
            except httpx.TransportError:
                seen["no answer"] += 1
                answer = None
            if answer is not None and answer.status_code != 429:
                break
            if time.monotonic() > deadline:
                return None
            wait = float(answer.headers.get("Retry-After", "1")) if answer is not None else 1.0
            await asyncio.sleep(wait * (0.5 + random.random()))
        if answer.status_code != 200:
            return None
    return time.monotonic()


async def _storm(base: str, made: list[dict], count: int, seconds: float, connections: int):
    seen: Counter = Counter()
    began = time.monotonic()
    deadline = began + seconds + 300
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    gate = asyncio.Semaphore(connections)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        done = await asyncio.gather(
            *(
                _agent(http, gate, made[n], n, began + seconds * n / count, deadline, seen)
                for n in range(count)
            )
        )
    return began, done, seen


def run_storm(base: str, made: list[dict], count: int, seconds: float, connections: int) -> dict:
    """``count`` agents (the enrolled ones, each once) reconnecting spread over ``seconds``."""
    began, done, seen = asyncio.run(_storm(base, made, count, seconds, connections))
    finished = [moment - began for moment in done if moment is not None]
    return {
        "agents": count,
        "within_seconds": seconds,
        "client_connections": connections,
        "answered": len(finished),
        "all_answered_after_seconds": round(max(finished, default=0.0), 1),
        "statuses": {str(code): number for code, number in sorted(seen.items(), key=str)},
    }
