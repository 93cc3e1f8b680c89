"""What one agent check-in costs inside the server, by path; prints one JSON object.

    .venv/bin/python bench/agent_ingest_cost.py [--agents 200] [--calls 400]
                                                [--database-url postgres://...]

Sets up as ``agent_checkins.py`` does (the small demo and ``--agents`` enrolled agents with one
disk check each, SQLite unless ``--database-url`` names a PostgreSQL database, which is
emptied), then calls the WSGI application in this process, without any HTTP, ``--calls`` times
per path and kind of check-in:

- ``django``: Django's handler (middleware, router, the ninja operation);
- ``lean``: the lean path in front of it (``thirdway.monitoring.ingest_wsgi``), when this
  version of Thirdway has it.

Where results are evaluated after the answer (``THIRDWAY_AGENT_EVALUATE_INLINE`` unset), the
results figures are the request's alone and ``worker_evaluation`` is what the task worker then
spends per result (a result per check, as agents send them); with ``=1`` the request evaluates.

Reports per call the CPU time of the calling thread (what the other users of a loaded machine
change least), the wall time, and the SQL statements; for the lean heartbeat, also what the
periodic flush of last seen costs per heartbeat.  ``cpu_ms`` bounds what one core can do:
``1000 / cpu_ms`` check-ins a second, before the HTTP server's own cost (parsing, the socket).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from agent_checkins import ENROL
from served import thirdway


def environ(path: str, body: dict, secret: str) -> dict:
    raw = json.dumps(body).encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/monitoring/agent/{path}",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def body_of(path: str, agent: dict) -> dict:
    if path == "heartbeat":
        return {"etag": agent["etag"], "sent_at": dt.datetime.now(dt.UTC).isoformat()}
    now = dt.datetime.now(dt.UTC).isoformat()
    result = {"check_id": agent["check"], "collected_at": now, "value": 42.0, "output": "42 %"}
    return {"batch_id": uuid.uuid4().hex, "results": [result]}


def call(app, path: str, agent: dict) -> int:
    status = []
    chunks = app(
        environ(path, body_of(path, agent), agent["secret"]), lambda s, h, e=None: status.append(s)
    )
    b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return int(status[0].split()[0])


def measure(app, path: str, made: list[dict], calls: int) -> dict:
    from django.db import connection

    for n in range(20):  # warm: caches, connections, imports
        call(app, path, made[n % len(made)])
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for n in range(20):
            call(app, path, made[(n + 20) % len(made)])
    statuses: dict[int, int] = {}
    cpu, wall = time.thread_time(), time.perf_counter()
    for n in range(calls):
        code = call(app, path, made[(n + 40) % len(made)])
        statuses[code] = statuses.get(code, 0) + 1
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return {
        "calls": calls,
        "cpu_ms": round(cpu * 1000 / calls, 3),
        "wall_ms": round(wall * 1000 / calls, 3),
        "queries": round(len(queries) / 20, 2),
        "per_core_per_second": round(calls / cpu) if cpu else None,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def settings_inline() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "AGENT_EVALUATE_INLINE", True))


def measure_evaluation(app, made: list[dict], rounds: int) -> dict:
    """What the worker spends per result evaluated after the answer: each round one batch per
    agent (one result each), then everything pending evaluated, a result per check."""
    from django.db import connection

    from thirdway.monitoring.pending_results import evaluate_pending

    evaluate_pending(limit=10**9)  # what the measures above left
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    cpu = wall = 0.0
    evaluated = 0
    for _ in range(rounds):
        for agent in made:
            call(app, "results", agent)
        started_cpu, started_wall = time.thread_time(), time.perf_counter()
        with connection.execute_wrapper(count):
            evaluated += evaluate_pending(limit=10**9)["evaluated"]
        cpu += time.thread_time() - started_cpu
        wall += time.perf_counter() - started_wall
    return {
        "results": evaluated,
        "cpu_ms": round(cpu * 1000 / max(evaluated, 1), 3),
        "wall_ms": round(wall * 1000 / max(evaluated, 1), 3),
        "queries": round(len(queries) / max(evaluated, 1), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    args = parser.parse_args()
    load_before = os.getloadavg()
    os.environ["THIRDWAY_HOME"] = tempfile.mkdtemp(prefix="thirdway-ingest-cost-")
    os.environ.pop("THIRDWAY_DATABASE_URL", None)
    if args.database_url:
        os.environ["THIRDWAY_DATABASE_URL"] = args.database_url
        thirdway("manage", "migrate", "-v", "0", env=dict(os.environ))
        thirdway("manage", "flush", "--no-input", env=dict(os.environ), stdout=subprocess.DEVNULL)
    env = dict(os.environ)
    thirdway("demo", "--size", "small", env=env, stdout=subprocess.DEVNULL)
    enrolled = thirdway(
        "manage", "shell", "-c", ENROL % args.agents, env=env, capture_output=True, text=True
    )
    made = json.loads(enrolled.stdout.strip().splitlines()[-1])
    os.environ["DJANGO_SETTINGS_MODULE"] = "thirdway.settings"
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    apps = {"django": WSGIHandler()}
    try:
        from thirdway.monitoring import ingest_store
        from thirdway.monitoring.ingest_wsgi import LeanIngest
    except ImportError:  # a version without the lean path
        ingest_store = None
    else:
        ingest_store.SeenBuffer.flush_in_background = False
        apps["lean"] = LeanIngest(apps["django"])
    report: dict = {
        "bench": "agent_ingest_cost",
        "database": "postgresql" if args.database_url else "sqlite",
        "agents": args.agents,
        "load_average_before": [round(v, 2) for v in load_before],
    }
    for name, app in apps.items():
        for path in ("heartbeat", "results"):
            report[f"{name}_{path}"] = measure(app, path, made, args.calls)
            if ingest_store is not None and name == "lean" and path == "heartbeat":
                started = time.thread_time()
                flushed = ingest_store.seen_later.flush()
                cost = (time.thread_time() - started) * 1000
                report[f"{name}_{path}"]["flush_ms_per_agent"] = round(cost / max(flushed, 1), 3)
    try:
        from thirdway.monitoring import pending_results  # noqa: F401 - a version that defers
    except ImportError:
        pass
    else:
        from django.conf import settings

        if not settings.AGENT_EVALUATE_INLINE:
            app = apps.get("lean", apps["django"])
            report["worker_evaluation"] = measure_evaluation(app, made, max(1, args.calls // 100))
    report["inline_evaluation"] = settings_inline()
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
