"""Alert → ticket over real HTTP: from a failing result posted by an agent to its ticket
existing; prints one JSON object.

    .venv/bin/python bench/alert_to_ticket.py [--samples 60] [--database-url postgres://...]
                                              [--grouped]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite unless ``--database-url`` names a
PostgreSQL database, which is emptied), enrols ``--samples`` agents each with one disk check
that alerts at its first critical result (one attempt), and serves the app with ``thirdway
serve`` (2 workers) on a free loopback port.  Then, one agent after the other, it posts a
results batch with a critical value and polls the alerts API (as a practice admin) until the
check's alert shows a ticket.  Reported, in milliseconds (p50, p95, max):

- ``answered``: from the POST to the agent's acknowledgement (the batch is committed before
  the answer; the task worker that ``serve`` runs evaluates it afterwards, unless
  ``THIRDWAY_AGENT_EVALUATE_INLINE=1`` evaluates it in the request);
- ``ticket_seen``: from the POST to the ticket seen through the API;
- ``ticket_after_answer``: from the answer to the ticket seen (the worker's share: finding the
  task, evaluating, opening the ticket, and the bench's next poll of the API).

``--grouped`` sets the client's rule to group alerts by client (a 10-minute window): the first
alert opens the ticket, the others are noted on it (the cost of joining an incident).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid

import httpx
from served import demo_home, free_port, thirdway, wait_for

SET_UP = """
import json
from thirdway.accounts.models import User
from thirdway.accounts.services import issue_token
from thirdway.clients.models import Client
from thirdway.monitoring import agents, services
admin = User.objects.get(username="demo-admin")
client = Client.objects.order_by("pk").first()
if %(grouped)s:
    services.set_alert_rule(admin, client, {"group_by": "client", "group_window_seconds": 600},
                            source="cli")
_, api_secret = issue_token(admin, "alert-bench", source="cli")
out = []
for n in range(%(samples)d):
    _, token = agents.issue_enrolment_token(admin, client, source="cli")
    agent, secret = agents.enrol(token, hostname=f"alert-bench-{n:04d}", os_name="Debian")
    check = services.create_check(
        admin, client, name=f"Disk {n}", kind="agent_metric", agent_id=agent.pk,
        metric="disk:/", warning_threshold=80.0, critical_threshold=90.0, max_attempts=1,
        source="cli",
    )
    out.append({"secret": secret, "check": check.pk})
print(json.dumps({"api": api_secret, "agents": out}))
"""


def percentiles(values: list[float]) -> dict:
    ms = sorted(value * 1000 for value in values)

    def at(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else 0.0

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "max_ms": round(ms[-1], 1) if ms else 0.0}


def one_alert(http: httpx.Client, api_secret: str, agent: dict) -> tuple[float, float, int]:
    """(seconds to the answer, seconds to the ticket seen, polls) for one failing result."""
    now = dt.datetime.now(dt.UTC).isoformat()
    result = {"check_id": agent["check"], "collected_at": now, "value": 97.0, "output": "97 %"}
    body = {"batch_id": uuid.uuid4().hex, "results": [result]}
    started = time.perf_counter()
    answer = http.post(
        "/api/v1/monitoring/agent/results",
        json=body,
        headers={"Authorization": f"Bearer {agent['secret']}"},
    )
    answered = time.perf_counter() - started
    if answer.status_code != 200 or answer.json().get("accepted") != 1:
        raise SystemExit(f"alert_to_ticket: the batch was not accepted: {answer.text[:300]}")
    polls = 0
    while True:
        polls += 1
        found = http.get(
            "/api/v1/monitoring/alerts",
            params={"check": agent["check"]},
            headers={"Authorization": f"Bearer {api_secret}"},
        ).json()["items"]
        if found and found[0]["ticket_number"]:
            return answered, time.perf_counter() - started, polls
        if time.perf_counter() - started > 60:
            raise SystemExit(f"alert_to_ticket: no ticket after 60 s for check {agent['check']}")
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    parser.add_argument("--grouped", action="store_true", help="group the alerts by client")
    args = parser.parse_args()
    load_before = os.getloadavg()
    env = demo_home("thirdway-alert-bench-", args.database_url)
    script = SET_UP % {"samples": args.samples, "grouped": bool(args.grouped)}
    made = thirdway(
        "manage", "shell", "-c", script, env=env, capture_output=True, text=True
    ).stdout.strip()
    setup = json.loads(made.splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "thirdway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    answered, seen, polls = [], [], []
    try:
        wait_for(f"{base}/api/v1/openapi.json", seconds=240)
        with httpx.Client(base_url=base, timeout=60) as http:
            http.get("/api/v1/openapi.json")  # warm a worker
            for agent in setup["agents"]:
                to_answer, to_ticket, tries = one_alert(http, setup["api"], agent)
                answered.append(to_answer)
                seen.append(to_ticket)
                polls.append(tries)
    finally:
        server.terminate()
        server.wait(30)
    report = {
        "bench": "alert_to_ticket",
        "database": "postgresql" if args.database_url else "sqlite",
        "samples": args.samples,
        "grouped": bool(args.grouped),
        "server_workers": 2,
        "cores": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "answered": percentiles(answered),
        "ticket_seen": percentiles(seen),
        "ticket_after_answer": percentiles([t - a for t, a in zip(seen, answered, strict=True)]),
        "polls_max": max(polls) if polls else 0,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
