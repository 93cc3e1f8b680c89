"""Agent check-ins over real HTTP from simulated agents on this machine; prints one JSON object.

    .venv/bin/python bench/agent_checkins.py [--agents 200] [--seconds 10] [--concurrency 16]
                                             [--database-url postgres://...]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite unless ``--database-url`` names a
PostgreSQL database, which is emptied), enrols ``--agents`` agents each with one disk check,
serves the app with ``thirdway serve`` on a free loopback port, then for ``--seconds`` each
phase sends from ``--concurrency`` threads (the simulated agents, in turn):

- ``heartbeat``: the agent's heartbeat with its current etag (the steady state);
- ``results``: one batch of one result per request, each batch a new id (committed before the
  answer, evaluated by the alert engine).

Reports per phase the check-ins per second, p50/p95/p99 latency in milliseconds and the
answers by status. The simulated agents share the machine's two cores with the server, so the
figures are a floor for a server on its own machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter

import httpx
from served import free_port, thirdway, wait_for

ENROL = """
import json
from thirdway.accounts.models import User
from thirdway.clients.models import Client
from thirdway.monitoring import agents, services
admin = User.objects.get(username="demo-admin")
client = Client.objects.order_by("pk").first()
made = []
for n in range(%d):
    _, token = agents.issue_enrolment_token(admin, client, source="cli")
    agent, secret = agents.enrol(token, hostname=f"bench-{n:05d}", os_name="Debian")
    check = services.create_check(
        admin, client, name=f"Disk {n}", kind="agent_metric", agent_id=agent.pk,
        metric="disk:/", warning_threshold=80.0, critical_threshold=90.0, source="cli",
    )
    made.append({"secret": secret, "check": check.pk, "etag": agents.config_of(agent)["etag"]})
print(json.dumps(made))
"""


def _request(agent: dict, phase: str) -> tuple[str, dict]:
    if phase == "heartbeat":
        return "heartbeat", {"etag": agent["etag"]}
    now = dt.datetime.now(dt.UTC).isoformat()
    result = {"check_id": agent["check"], "collected_at": now, "value": 42.0, "output": "42 %"}
    return "results", {"batch_id": uuid.uuid4().hex, "results": [result]}


def run_phase(base: str, made: list[dict], phase: str, seconds: float, threads: int) -> dict:
    """Send ``phase`` requests from ``threads`` threads for ``seconds``; latencies and counts."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        mine, seen = [], Counter()
        with httpx.Client(base_url=base, timeout=30) as http:
            n = offset
            while time.monotonic() < stop:
                agent = made[n % len(made)]
                n += threads
                path, body = _request(agent, phase)
                headers = {"Authorization": f"Bearer {agent['secret']}"}
                started = time.perf_counter()
                answer = http.post(f"/api/v1/monitoring/agent/{path}", json=body, headers=headers)
                mine.append(time.perf_counter() - started)
                seen[answer.status_code] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    began = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    ms = sorted(value * 1000 for value in latencies)

    def percentile(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else 0.0

    return {
        "requests": len(ms),
        "per_second": round(len(ms) / elapsed, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else 0.0,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="thirdway-agent-bench-")
    env = {**os.environ, "THIRDWAY_HOME": home}
    env.pop("THIRDWAY_DATABASE_URL", None)
    if args.database_url:
        env["THIRDWAY_DATABASE_URL"] = args.database_url
        thirdway("manage", "migrate", "-v", "0", env=env)
        thirdway("manage", "flush", "--no-input", env=env, stdout=subprocess.DEVNULL)
    thirdway("demo", "--size", "small", env=env, stdout=subprocess.DEVNULL)
    enrolled = thirdway(
        "manage", "shell", "-c", ENROL % args.agents, env=env, capture_output=True, text=True
    )
    made = json.loads(enrolled.stdout.strip().splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "thirdway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{base}/api/v1/openapi.json")
        run_phase(base, made, "heartbeat", 1.0, 2)  # warm the workers
        phases = {
            phase: run_phase(base, made, phase, args.seconds, args.concurrency)
            for phase in ("heartbeat", "results")
        }
    finally:
        server.terminate()
        server.wait(30)
    database = "postgresql" if args.database_url else "sqlite"
    report = {
        "bench": "agent_checkins",
        "database": database,
        "agents": args.agents,
        "concurrency": args.concurrency,
        "server_workers": 2,
        "seconds_per_phase": args.seconds,
        "cores": os.cpu_count(),
        **phases,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
