"""Ticket creation through the HTTP API: sequential, then N concurrent clients.

Runs a real gunicorn against the database of THIRDWAY_HOME / THIRDWAY_DATABASE_URL (load the
demo first), creates tickets with POST /api/v1/tickets (each with an Idempotency-Key), and
prints one JSON object:

    THIRDWAY_HOME=var-bench python bench/tickets_api.py --tickets 600 --concurrency 8

The Python client (httpx in threads) spends about as much CPU per request as the server does on
a small machine, so with ``wrk`` installed (Debian package ``wrk``) the concurrent load is also
sent by wrk, a C load generator, for ``--seconds`` (each request with a fresh key).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

import httpx  # noqa: E402

from thirdway.accounts.models import Role, User  # noqa: E402
from thirdway.accounts.services import issue_token  # noqa: E402
from thirdway.clients.models import Client  # noqa: E402
from thirdway.tickets.models import Ticket  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _token() -> str:
    admin = User.objects.filter(role=Role.PRACTICE_ADMIN, is_active=True).first()
    if admin is None:
        sys.exit("No practice admin: load the demo first (thirdway demo).")
    _, secret = issue_token(admin, f"bench-{uuid.uuid4().hex[:8]}", source="cli")
    return secret


def _server(port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "thirdway.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    sys.exit("gunicorn did not start")


def _create(client: httpx.Client, client_ids: list[int], index: int) -> float:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/tickets",
        json={
            "client": client_ids[index % len(client_ids)],
            "subject": f"Bench ticket {index}",
            "body_text": "The printer on the second floor is offline again.",
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    if response.status_code != 201:
        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(match) -> float:
    """CPU (user + system) used so far by the processes whose stat and command line match."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                cmdline = cmd.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if match(int(entry), int(fields[1]), cmdline):
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def _measured(server: subprocess.Popen, run) -> dict:
    """``run()``'s figures plus the CPU the web server and the database spent per ticket."""
    from django.db import connection

    name = connection.settings_dict["NAME"]

    def web(pid, ppid, cmdline):
        return pid == server.pid or ppid == server.pid

    def database(pid, ppid, cmdline):
        return cmdline.startswith("postgres: ") and f" {name} " in cmdline

    before = (_cpu_seconds(web), _cpu_seconds(database))
    figures = run()
    after = (_cpu_seconds(web), _cpu_seconds(database))
    made = max(figures["tickets"], 1)
    figures["web_cpu_ms_per_ticket"] = round((after[0] - before[0]) * 1000 / made, 2)
    if connection.vendor == "postgresql":
        figures["database_cpu_ms_per_ticket"] = round((after[1] - before[1]) * 1000 / made, 2)
    return figures


def _run(base: str, token: str, client_ids: list[int], count: int, threads: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = count // threads

    def work(offset: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            mine = [_create(client, client_ids, offset + i) for i in range(per_thread)]
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(n * per_thread,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": threads,
        "tickets": len(latencies),
        "tickets_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "latency_ms_p95": round(latencies[math.ceil(len(latencies) * 0.95) - 1] * 1000, 1),
    }


WRK_SCRIPT = """
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 100 + id)
  prefix = string.format("wrk-%d-%d-%d", os.time(), id, math.random(1, 1000000000))
  counter, created, failed = 0, 0, 0
end
local clients = {CLIENTS}
function request()
  counter = counter + 1
  local body = string.format(
    '{"client": %d, "subject": "Bench ticket %d", '
    .. '"body_text": "The printer on the second floor is offline again."}',
    clients[(counter % #clients) + 1], counter)
  return wrk.format("POST", "/api/v1/tickets", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer TOKEN",
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local made, bad = 0, 0
  for _, t in ipairs(threads) do made = made + t:get("created"); bad = bad + t:get("failed") end
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "created": %d, "failed": %d, '
    .. '"p50": %.1f, "p95": %.1f, "p99": %.1f}\\n',
    summary.requests, summary.duration / 1e6, made, bad,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def _run_wrk(base: str, token: str, client_ids: list[int], seconds: int, connections: int):
    script = WRK_SCRIPT.replace("CLIENTS", ", ".join(map(str, client_ids))).replace("TOKEN", token)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        run = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk"),
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                lua.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(x for x in run.stdout.splitlines() if x.startswith("WRKJSON "))
    found = json.loads(line.removeprefix("WRKJSON "))
    return {
        "load": "wrk",
        "clients": connections,
        "tickets": found["created"],
        "failed": found["failed"],
        "tickets_per_second": round(found["created"] / found["seconds"], 1),
        "latency_ms_p50": found["p50"],
        "latency_ms_p95": found["p95"],
        "latency_ms_p99": found["p99"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (gthread above 1)"
    )
    parser.add_argument(
        "--seconds", type=int, default=20, help="how long wrk sends (when wrk is installed)"
    )
    parser.add_argument("--no-wrk", action="store_true", help="only the Python client")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    token = _token()
    client_ids = list(Client.objects.values_list("pk", flat=True)[:500])
    before = Ticket.objects.count()
    port = _free_port()
    server = _server(port, args.workers, args.threads)
    try:
        base = f"http://127.0.0.1:{port}"
        # Each worker imports and caches on its first requests: not part of the figures.
        _run(base, token, client_ids, args.workers * 10, args.workers)
        sequential = _measured(server, lambda: _run(base, token, client_ids, args.tickets // 2, 1))
        concurrent = _measured(
            server, lambda: _run(base, token, client_ids, args.tickets, args.concurrency)
        )
        with_wrk = None
        if shutil.which("wrk") and not args.no_wrk:
            with_wrk = _measured(
                server,
                lambda: _run_wrk(base, token, client_ids, args.seconds, args.concurrency),
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    made = Ticket.objects.count() - before
    from django.db import connection

    print(
        json.dumps(
            {
                "database": connection.vendor,
                "gunicorn_workers": args.workers,
                "gunicorn_threads": args.threads,
                "sequential": sequential,
                "concurrent": concurrent,
                "concurrent_wrk": with_wrk,
                "tickets_created": made,
                "tickets_expected": args.workers * 10
                + sequential["tickets"]
                + concurrent["tickets"]
                + (with_wrk["tickets"] if with_wrk else 0),
            }
        )
    )


if __name__ == "__main__":
    main()
