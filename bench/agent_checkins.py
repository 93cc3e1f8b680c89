"""Agent check-ins over real HTTP from simulated agents on this machine; prints one JSON object.

    .venv/bin/python bench/agent_checkins.py [--agents 200] [--seconds 10] [--concurrency 16]
                                             [--database-url postgres://...] [--django]
                                             [--threads 1] [--in-flight 8]
                                             [--storm 0] [--storm-seconds 10]
                                             [--storm-connections 256] [--client wrk]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite unless ``--database-url`` names a
PostgreSQL database, which is emptied), enrols ``--agents`` agents each with one disk check,
serves the app with ``thirdway serve`` on a free loopback port, then for ``--seconds`` each
phase sends from ``--concurrency`` threads (the simulated agents, in turn):

- ``heartbeat``: the agent's heartbeat with its current etag (the steady state);
- ``results``: one batch of one result per request, each batch a new id (committed before the
  answer; evaluated by the alert engine in the task worker, or in the request with
  ``THIRDWAY_AGENT_EVALUATE_INLINE=1``); ``evaluation_backlog`` then says how many results
  the worker still had to evaluate after the phase and how long it took to finish them.

- ``storm`` (with ``--storm N``): N agents reconnecting within ``--storm-seconds``, each
  sending a heartbeat and then a results batch of its own id; a 429 is retried after its
  ``Retry-After`` (as the agent does), each agent a coroutine of one asyncio loop
  (``storm_async.py``) over at most ``--storm-connections`` connections.  Reported: how many
  agents were answered and how long it took, the 429s, and the batches found in the database
  afterwards (none lost, none twice).

``--django`` serves the check-ins through Django's router (``THIRDWAY_AGENT_LEAN_INGEST=0``)
instead of the lean path in front of it, to see what the lean path buys.

Reports per phase the check-ins per second, p50/p95/p99 latency in milliseconds and the
answers by status, with the machine's load average before and after.  The simulated agents
share the machine's two cores with the server, so the figures are a floor for a server on its
own machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import httpx
import storm_async
import wrk_load
from served import demo_home, free_port, thirdway, wait_for

ENROL = """
import copy, json
from django.utils import timezone
from thirdway.accounts.models import User, token_digest
from thirdway.clients.models import Client
from thirdway.monitoring import agents, services
from thirdway.monitoring.models import Agent, Check
admin = User.objects.get(username="demo-admin")
client = Client.objects.order_by("pk").first()
_, token = agents.issue_enrolment_token(admin, client, source="cli")
first, secret = agents.enrol(token, hostname="bench-00000", os_name="Debian")
template = services.create_check(
    admin, client, name="Disk 0", kind="agent_metric", agent_id=first.pk,
    metric="disk:/", warning_threshold=80.0, critical_threshold=90.0, source="cli",
)
secrets = [secret] + [agents.AGENT_PREFIX + f"bench{n:06d}" + "x" * 30 for n in range(1, %d)]
# The others are made directly (the set-up is not what is measured): the same rows enrolment
# and create_check write, without the audit trail.
made = Agent.objects.bulk_create(
    Agent(client=client, hostname=f"bench-{n:05d}", os_name="Debian", prefix=s[:10],
          digest=token_digest(s), last_seen_at=timezone.now())
    for n, s in enumerate(secrets[1:], start=1)
)
checks = []
for n, agent in enumerate(made, start=1):
    check = copy.copy(template)
    check.pk = check.id = None
    check.agent_id, check.name, check.asset_id = agent.pk, f"Disk {n}", None
    checks.append(check)
checks = [template] + Check.objects.bulk_create(checks, batch_size=500)
out = []
for secret, check in zip(secrets, checks):
    etag = agents.config_of(Agent(pk=check.agent_id))["etag"]
    out.append({"secret": secret, "check": check.pk, "etag": etag})
print(json.dumps(out))
"""

STORM_COUNT = """
import json
from thirdway.monitoring.models import AgentBatch, CheckResult
found = AgentBatch.objects.filter(batch_id__startswith="storm-")
accepted = sum(found.values_list("accepted", flat=True))
stored = CheckResult.objects.filter(output="storm").count()
print(json.dumps({"batches": found.count(), "accepted": accepted, "results": stored}))
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


STORED = """
import json
from thirdway.monitoring.models import AgentBatch
print(json.dumps(AgentBatch.objects.filter(batch_id__startswith=%r).count()))
"""


def steady_phase(server: int, base: str, made: list[dict], phase: str, args, env: dict) -> dict:
    """One steady phase from the chosen load generator, with the CPU the server's processes
    spent on it, by role (``web_cpu_ms_per_request``: what one check-in costs the web workers,
    so ``2,000 / that`` is what two cores of their own would answer a second)."""
    database = args.database_url.rsplit("/", 1)[-1] if args.database_url else ""
    began, cpu = time.monotonic(), wrk_load.tree_cpu(server)
    database_cpu = wrk_load.database_cpu(database) if database else 0.0
    if args.client == "wrk":
        prefix = f"wrk-{uuid.uuid4().hex[:8]}-"
        figures = wrk_load.run(base, made, phase, args.seconds, args.concurrency, prefix)
    else:
        figures = run_phase(base, made, phase, args.seconds, args.concurrency)
    elapsed = time.monotonic() - began
    roles = wrk_load.served_cpu(cpu, wrk_load.tree_cpu(server))
    if database:  # its backends: they outlive the phase (connections are kept)
        roles["database"] = round(wrk_load.database_cpu(database) - database_cpu, 2)
    figures["server_cpu_s"] = roles
    web = 1000 * roles["web"] / max(1, figures["requests"])
    figures["web_cpu_ms_per_request"] = round(web, 3)
    figures["server_cores_busy"] = round(sum(roles.values()) / elapsed, 2)
    if args.client == "wrk" and phase == "results":
        looked = thirdway(
            "manage", "shell", "-c", STORED % prefix, env=env, capture_output=True, text=True
        )
        figures["batches_stored"] = json.loads(looked.stdout.strip().splitlines()[-1])
    return figures


def settle(server: int, most: float = 90.0) -> float:
    """Wait until the served processes are idle (under a tenth of a core for a second): a
    fresh server's task worker first runs every periodic job once, which would take its share
    of the cores from the first phase.  The seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < most:
        before = wrk_load.tree_cpu(server)
        time.sleep(1.0)
        if sum(wrk_load.served_cpu(before, wrk_load.tree_cpu(server)).values()) < 0.1:
            break
    return round(time.monotonic() - began, 1)


# How long after the results phase the task worker had evaluated every pending result.
BACKLOG = """
import json, time
from thirdway.monitoring.models import CheckResult
if not hasattr(CheckResult, "pending"):
    print(json.dumps(None))
else:
    began = time.monotonic()
    first = left = CheckResult.objects.filter(pending=True).count()
    while left and time.monotonic() - began < 300:
        time.sleep(0.25)
        left = CheckResult.objects.filter(pending=True).count()
    waited = round(time.monotonic() - began, 1)
    print(json.dumps({"pending_at_first_look": first, "left": left, "then_seconds": waited}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    parser.add_argument("--django", action="store_true", help="check-ins through Django's router")
    parser.add_argument("--threads", type=int, default=1, help="threads per server worker")
    parser.add_argument("--in-flight", type=int, default=8, help="check-ins at once per worker")
    parser.add_argument("--storm", type=int, default=0, help="agents in the reconnect storm")
    parser.add_argument("--storm-seconds", type=float, default=10.0)
    parser.add_argument(
        "--storm-connections", type=int, default=256, help="the storm's connections at most"
    )
    parser.add_argument("--phases", default="heartbeat,results", help="steady phases to run")
    parser.add_argument(
        "--client",
        choices=["python", "wrk"],
        default="python",
        help="the steady phases' load generator: Python threads, or wrk (kept-alive connections)",
    )
    args = parser.parse_args()
    if args.client == "wrk" and not wrk_load.available():
        parser.error("--client wrk needs Debian's wrk (apt-get install wrk)")
    load_before = os.getloadavg()
    env = demo_home(
        "thirdway-agent-bench-",
        args.database_url,
        THIRDWAY_AGENT_LEAN_INGEST="0" if args.django else "1",
        THIRDWAY_AGENT_INGEST_IN_FLIGHT=str(args.in_flight),
    )
    enrolled = thirdway(
        "manage",
        "shell",
        "-c",
        ENROL % max(args.agents, args.storm),
        env=env,
        capture_output=True,
        text=True,
    )
    made = json.loads(enrolled.stdout.strip().splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "thirdway", "serve"]
    server = subprocess.Popen(  # noqa: S603
        [*serve, "--port", str(port), "--workers", "2", "--threads", str(args.threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{base}/api/v1/openapi.json", seconds=240)  # a loaded machine starts slowly
        run_phase(base, made, "heartbeat", 1.0, 2)  # warm the workers
        settled = settle(server.pid)
        steady = made[: args.agents]
        phases = {
            phase: steady_phase(server.pid, base, steady, phase, args, env)
            for phase in filter(None, args.phases.split(","))
        }
        if "results" in phases:
            ended = time.monotonic()
            looked = thirdway(
                "manage", "shell", "-c", BACKLOG, env=env, capture_output=True, text=True
            )
            backlog = json.loads(looked.stdout.strip().splitlines()[-1])
            if backlog is not None:
                backlog["seconds_after_the_phase"] = round(time.monotonic() - ended, 1)
                phases["evaluation_backlog"] = backlog
        if args.storm:
            storm = storm_async.run_storm(
                base, made, args.storm, args.storm_seconds, args.storm_connections
            )
            counted = thirdway(
                "manage", "shell", "-c", STORM_COUNT, env=env, capture_output=True, text=True
            )
            storm["stored"] = json.loads(counted.stdout.strip().splitlines()[-1])
            phases["storm"] = storm
    finally:
        server.terminate()
        server.wait(30)
    database = "postgresql" if args.database_url else "sqlite"
    report = {
        "bench": "agent_checkins",
        "database": database,
        "agents": args.agents,
        "concurrency": args.concurrency,
        "ingest": "django" if args.django else "lean",
        "client": args.client,
        "server_workers": 2,
        "server_threads": args.threads,
        "in_flight_per_worker": args.in_flight,
        "seconds_per_phase": args.seconds,
        "settled_seconds": settled,
        "cores": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        **phases,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
