"""Alertmanager webhook intake over real HTTP, one alert a request and 100 a request; prints
one JSON object.

    .venv/bin/python bench/alertmanager_intake.py [--seconds 10] [--distinct 200]
                                                  [--concurrency 4] [--database-url postgres://...]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite unless ``--database-url`` names a
PostgreSQL database, which is emptied), makes an intake token for one client and serves the app
with ``thirdway serve`` (2 workers) on a free loopback port.  Then it posts Alertmanager's
webhook body (version 4, as its ``webhook_configs`` sends it) to
``/api/v1/monitoring/alertmanager`` with the token, from ``--concurrency`` threads (Alertmanager
notifies its groups at once):

- ``new_single`` and ``new_batch``: each of ``--distinct`` firing alerts for the first time
  (its check made, its alert and ticket opened), one a request (each alert its own group), then
  100 a request (groups of 100), each alert once;
- ``single`` and ``batch``: for ``--seconds`` each, the same alerts notified again (as
  Alertmanager does at each ``group_interval`` and ``repeat_interval``: the steady state, a
  repeat each, never a second ticket), one a request, then 100 a request.

Reported per phase: alerts and requests per second, p50/p99 latency in milliseconds, the
answers by status; then what the database holds: the deliveries (one per request answered),
the alerts they counted, the results of the client's Alertmanager checks (one per alert sent)
and the checks (one per distinct alert and mode).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
from served import demo_home, free_port, thirdway, wait_for

BATCH = 100

SET_UP = """
import json
from thirdway.accounts.models import User
from thirdway.clients.models import Client
from thirdway.monitoring import intake
admin = User.objects.get(username="demo-admin")
client = Client.objects.order_by("pk").first()
_, secret = intake.issue_token(admin, client, "intake bench", source="cli")
print(json.dumps({"secret": secret, "client": client.pk}))
"""

COUNT = """
import json, re
from thirdway.monitoring.models import Check, CheckResult, IntakeDelivery
deliveries = IntakeDelivery.objects.filter(client_id=%(client)d, token__name="intake bench")
outcomes = deliveries.values_list("outcome", flat=True)
counted = sum(int(re.match(r"\\d+", outcome).group()) for outcome in outcomes)
checks = Check.objects.filter(
    client_id=%(client)d, kind="alertmanager", name__regex=r"^(HostDown|DiskFilling) on host-"
)
print(json.dumps({
    "deliveries": deliveries.count(),
    "unprocessed": deliveries.filter(processed_at=None).count(),
    "alerts_counted": counted,
    "results": CheckResult.objects.filter(check_obj__in=checks).count(),
    "checks": checks.count(),
}))
"""


def alert(mode: str, n: int, started: str) -> dict:
    """One alert as Alertmanager sends it."""
    labels = {
        "alertname": "DiskFilling" if mode == "batch" else "HostDown",
        "instance": f"host-{n:05d}.example:9100",
        "job": "node",
        "severity": "critical",
    }
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} on {labels['instance']}"},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": f"{mode[0]}{n:015x}",
    }


def body(mode: str, first: int, started: str) -> dict:
    """A notification: one alert (its own group) or ``BATCH`` alerts (one group)."""
    size = 1 if mode == "single" else BATCH
    alerts = [alert(mode, first + k, started) for k in range(size)]
    group = alerts[0]["labels"]["instance"] if size == 1 else f"group-{first // BATCH}"
    name = alerts[0]["labels"]["alertname"]
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity="critical"}}:{{alertname="{name}", group="{group}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "thirdway",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "job": "node", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": alerts,
    }


def run_phase(base: str, secret: str, mode: str, firsts: list[int], seconds: float, threads: int):
    """Post the bodies starting at ``firsts`` in turn: each once (``seconds`` 0) or over and
    over for ``seconds``."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    alerts = [0]
    lock = threading.Lock()
    turn = [0]
    stop = time.monotonic() + seconds
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    headers = {"Authorization": f"Bearer {secret}"}
    bodies = [json.dumps(body(mode, first, started)) for first in firsts]
    size = 1 if mode == "single" else BATCH

    def worker() -> None:
        mine, seen = [], Counter()
        with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
            while True:
                with lock:
                    n = turn[0]
                    turn[0] += 1
                over = time.monotonic() >= stop if seconds else n >= len(bodies)
                if over:
                    break
                content = bodies[n % len(bodies)]
                began = time.perf_counter()
                answer = http.post(
                    "/api/v1/monitoring/alertmanager",
                    content=content,
                    headers={"Content-Type": "application/json"},
                )
                mine.append(time.perf_counter() - began)
                seen[answer.status_code] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            alerts[0] += seen[200] * size

    began = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    ms = sorted(value * 1000 for value in latencies)

    def at(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else 0.0

    return {
        "alerts_per_request": size,
        "seconds": round(elapsed, 1),
        "requests": len(ms),
        "alerts": alerts[0],
        "alerts_per_second": round(alerts[0] / elapsed, 1),
        "requests_per_second": round(len(ms) / elapsed, 1),
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--distinct", type=int, default=200, help="alerts, a multiple of 100")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    args = parser.parse_args()
    distinct = max(BATCH, args.distinct // BATCH * BATCH)
    load_before = os.getloadavg()
    env = demo_home("thirdway-intake-bench-", args.database_url)
    made = thirdway("manage", "shell", "-c", SET_UP, env=env, capture_output=True, text=True)
    setup = json.loads(made.stdout.strip().splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "thirdway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    singles, batches = list(range(distinct)), list(range(0, distinct, BATCH))
    secret, threads = setup["secret"], args.concurrency
    try:
        wait_for(f"{base}/api/v1/openapi.json", seconds=240)  # a loaded machine starts slowly
        phases = {
            "new_single": run_phase(base, secret, "single", singles, 0, threads),
            "new_batch": run_phase(base, secret, "batch", batches, 0, threads),
            "single": run_phase(base, secret, "single", singles, args.seconds, threads),
            "batch": run_phase(base, secret, "batch", batches, args.seconds, threads),
        }
    finally:
        server.terminate()
        server.wait(30)
    counted = thirdway(
        "manage", "shell", "-c", COUNT % setup, env=env, capture_output=True, text=True
    )
    stored = json.loads(counted.stdout.strip().splitlines()[-1])
    sent = sum(phase["alerts"] for phase in phases.values())
    answered = sum(phase["statuses"].get("200", 0) for phase in phases.values())
    report = {
        "bench": "alertmanager_intake",
        "database": "postgresql" if args.database_url else "sqlite",
        "distinct_alerts_per_mode": distinct,
        "concurrency": threads,
        "seconds_per_phase": args.seconds,
        "server_workers": 2,
        "cores": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        **phases,
        "alerts_sent": sent,
        "stored": stored,
        "all_stored": (
            stored["deliveries"] == answered
            and stored["alerts_counted"] == stored["results"] == sent
            and stored["checks"] == 2 * distinct
            and stored["unprocessed"] == 0
        ),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
