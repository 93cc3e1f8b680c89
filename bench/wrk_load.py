"""Agent check-ins sent by wrk (Debian's ``wrk``, an event-driven HTTP load generator in C), and
the CPU the server's processes spent: imported by ``agent_checkins.py``.

The simulated agents of ``agent_checkins.py`` are Python threads on the server's own two cores,
and at a few hundred check-ins a second they spend as much CPU as the server does. wrk sends the
same requests (each agent's secret in turn, a new batch id for every results batch) for a small
fraction of that, over kept-alive connections as a reverse proxy in front of the server would.

``tree_cpu(pid)`` reads ``/proc`` for the CPU seconds of a process and all its descendants, so a
phase can say how much of the machine the server itself used per check-in, whatever the load
generator cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# wrk runs one Lua state per thread: each thread walks the agents from its own offset and counts
# the answers by status; done() prints one JSON line with the totals and the latency percentiles.
SCRIPT = """
local agents = {%(agents)s}
local phase = "%(phase)s"
local prefix = "%(prefix)s"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  n = id
  sent = 0
  statuses = {}
end

function request()
  n = n + %(step)d
  sent = sent + 1
  local agent = agents[(n %% #agents) + 1]
  local headers = {}
  headers["Authorization"] = "Bearer " .. agent[1]
  headers["Content-Type"] = "application/json"
  local body
  if phase == "heartbeat" then
    body = '{"etag":"' .. agent[3] .. '"}'
    return wrk.format("POST", "/api/v1/monitoring/agent/heartbeat", headers, body)
  end
  body = '{"batch_id":"' .. prefix .. id .. '-' .. sent .. '","results":[{"check_id":' ..
    agent[2] .. ',"collected_at":"' .. os.date("!%%Y-%%m-%%dT%%H:%%M:%%S+00:00") ..
    '","value":42.0,"output":"42 %%"}]}'
  return wrk.format("POST", "/api/v1/monitoring/agent/results", headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local seen = {}
  for _, thread in ipairs(threads) do
    local mine = thread:get("statuses")
    for key, count in pairs(mine) do
      seen[key] = (seen[key] or 0) + count
    end
  end
  local parts = {}
  for key, count in pairs(seen) do
    table.insert(parts, '"' .. key .. '":' .. count)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"errors":{"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d},' ..
    '"statuses":{%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ",")))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def tree_cpu(pid: int) -> dict[int, tuple[int, float]]:
    """{pid: (parent, CPU seconds user + system)} of ``pid`` and every live descendant."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree, todo = {}, [pid]
    while todo:
        current = todo.pop()
        tree[current] = (parents.get(current, 0), times.get(current, 0.0))
        todo.extend(child for child, parent in parents.items() if parent == current)
    return tree


def database_cpu(name: str) -> float:
    """CPU seconds of the live PostgreSQL backends connected to database ``name``."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if title.startswith("postgres: ") and f" {name} " in title:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def served_cpu(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds spent between two ``tree_cpu`` readings of ``thirdway serve``, by role:
    gunicorn's web workers, the task worker (the master's first child: it is forked before
    the web workers) and the rest (the supervisor and gunicorn's master)."""
    spent = {pid: cpu - before.get(pid, (0, 0.0))[1] for pid, (_, cpu) in after.items()}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in after.items():
        children.setdefault(parent, []).append(pid)
    master = max(children, key=lambda pid: len(children[pid]))
    first, *web = sorted(children[master])
    roles = {"web": sum(spent[pid] for pid in web), "tasks": spent[first]}
    roles["other"] = sum(spent.values()) - roles["web"] - roles["tasks"]
    return {role: round(value, 2) for role, value in roles.items()}


def run(
    base: str,
    made: list[dict],
    phase: str,
    seconds: float,
    connections: int,
    prefix: str,
    threads: int = 2,
) -> dict:
    """``phase`` check-ins from wrk for ``seconds``; its figures, as ``run_phase`` gives them."""
    agents = ",".join(
        '{{"{}",{},"{}"}}'.format(agent["secret"], agent["check"], agent["etag"]) for agent in made
    )
    text = SCRIPT % {
        "agents": agents,
        "phase": phase,
        "prefix": prefix,
        "step": threads,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(text)
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            script.name,
            base,
        ]
        before = os.times()
        ran = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        after = os.times()
    finally:
        os.unlink(script.name)
    line = next(row for row in ran.stdout.splitlines() if row.startswith("WRK "))
    figures = json.loads(line[4:])
    duration = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "per_second": round(figures["requests"] / duration, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p95_ms": round(figures["p95_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "max_ms": round(figures["max_us"] / 1000, 1),
        "statuses": dict(sorted(figures["statuses"].items())),
        "socket_errors": {key: value for key, value in figures["errors"].items() if value},
        "load_generator_cpu_s": round(
            (after.children_user - before.children_user)
            + (after.children_system - before.children_system),
            2,
        ),
    }
