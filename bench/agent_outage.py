"""A server outage with agents buffering, then their catch-up over real HTTP; prints one JSON
object.

    .venv/bin/python bench/agent_outage.py [--agents 1000] [--outage-minutes 10]
                                           [--spread-seconds 60] [--interval SECONDS]
                                           [--client-threads 64] [--threads 4] [--in-flight 2]
                                           [--database-url postgres://...]

Loads the small demo into a fresh ``THIRDWAY_HOME`` (SQLite unless ``--database-url`` names a
PostgreSQL database, which is emptied) and enrols ``--agents`` agents, each with one disk check
(a result a minute).  While no server runs, each agent's own buffer (the agent package's
``Buffer``, one SQLite file per agent, as in ``/var/lib/thirdway-agent/``) is filled with the
results it collected during the outage: one a minute for ``--outage-minutes``, queued at their
collection times.  Then ``thirdway serve`` starts and the agents come back: each at its own
moment of its cycle (spread evenly over ``--spread-seconds``, by default one cycle: the agents'
timers kept running during the outage), each running the agent's own ``heartbeat`` and
``deliver`` (batches of 500, 20 a cycle, the pause between them) with the agent's handling of
``429``: the agent waits its ``Retry-After`` and tries again at its next cycle (the cycle is
the interval the server hands the agent, or ``--interval``).  The agents' measuring and
inventory are left out (the bench times the replay, not this machine's disks).

Reported: the catch-up time (from the server answering to the last buffer emptied), each
agent's own time from its first call to its buffer empty (p50, p99, max), the batches and
results sent, the answers by status (the 429s), and what the database holds afterwards: the
batches of these agents (each id once: the table's constraint), the results of the outage
(their count against those sent, and distinct per check and collection time) and whether
every buffer is empty with nothing dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent_checkins import ENROL
from served import demo_home, free_port, thirdway, wait_for

AGENT_SOURCE = Path(__file__).resolve().parents[1] / "agent" / "src"
if str(AGENT_SOURCE) not in sys.path:
    sys.path.insert(0, str(AGENT_SOURCE))

from thirdway_agent.agent import Agent  # noqa: E402
from thirdway_agent.buffer import Buffer  # noqa: E402
from thirdway_agent.config import Config  # noqa: E402

MARK = "outage replay"

COUNT = """
import json
from django.db.models import Count, Sum
from thirdway.monitoring.models import AgentBatch, CheckResult
batches = AgentBatch.objects.filter(agent__hostname__startswith="bench-")
results = CheckResult.objects.filter(output=%r)
print(json.dumps({
    "batches": batches.count(),
    "distinct_batch_ids": batches.values("agent_id", "batch_id").distinct().count(),
    "accepted": batches.aggregate(n=Sum("accepted"))["n"] or 0,
    "results": results.count(),
    "distinct_results": results.values("check_obj_id", "collected_at").distinct().count(),
}))
"""


def fill(state: Path, made: list[dict], minutes: int, ended: float) -> int:
    """Each agent's buffer as the outage left it: a result a minute, queued when collected."""

    def one(n: int) -> int:
        agent = made[n]
        buffer = Buffer(state / f"agent-{n:05d}" / "buffer.sqlite3")
        buffer.put("etag", agent["etag"])
        offset = random.uniform(0, 60)  # where this agent's minute falls
        for minute in range(minutes):
            collected = ended - (minutes - minute) * 60 + offset
            at = dt.datetime.fromtimestamp(collected, dt.UTC).isoformat()
            value = round(random.uniform(40, 60), 1)
            result = {
                "check_id": agent["check"],
                "collected_at": at,
                "value": value,
                "output": MARK,
            }
            buffer.add([result], now=collected)
        count = buffer.count()
        buffer.close()
        return count

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(one, range(len(made))))


class Replay:
    """The agents' cycles after the outage, run by a pool of threads in time order."""

    def __init__(self, base: str, state: Path, made: list[dict], args) -> None:
        self.base, self.state, self.made, self.args = base, state, made, args
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()
        self.due: list[tuple[float, int]] = []
        self.wait_until = [0.0] * len(made)
        self.first_call = [0.0] * len(made)
        self.emptied = [0.0] * len(made)
        self.cycles = Counter()
        self.sent = 0
        self.batches = 0
        self.left = len(made)

    def _count(self, response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1

    def cycle(self, n: int) -> float | None:
        """One cycle of agent ``n``: heartbeat, then deliver; when to come again (None: done)."""
        agent = self.made[n]
        state = str(self.state / f"agent-{n:05d}")
        config = Config(server=self.base, agent_id=0, secret=agent["secret"], state_dir=state)
        runner = Agent(config)
        runner.server.http.event_hooks["response"].append(self._count)
        runner.wait_until = self.wait_until[n]
        batches = [0]
        send = runner.server.results

        def counted(batch_id: str, results: list[dict]) -> dict:
            answer = send(batch_id, results)
            batches[0] += 1
            return answer

        runner.server.results = counted
        try:
            if not self.first_call[n]:
                self.first_call[n] = time.monotonic()
            alive = runner.heartbeat()
            sent = runner.deliver() if alive else 0
            left = runner.buffer.count()
            self.wait_until[n] = runner.wait_until
            interval = self.args.interval or runner.interval
        finally:
            runner.close()
        with self.lock:
            self.sent += sent
            self.batches += batches[0]
            self.cycles[n] += 1
        if left == 0:
            self.emptied[n] = time.monotonic()
            return None
        # As Agent.run: the next cycle after the interval (with jitter) or the Retry-After.
        pause = interval * random.uniform(0.9, 1.1)
        return time.monotonic() + max(pause, self.wait_until[n] - time.time(), 1.0)

    def run(self) -> float:
        began = time.monotonic()
        spread = self.args.spread_seconds
        count = len(self.made)
        self.due = [(began + spread * n / count, n) for n in range(count)]
        heapq.heapify(self.due)
        ready = threading.Condition(self.lock)

        def worker() -> None:
            while True:
                with ready:
                    while True:
                        if not self.left:
                            ready.notify_all()
                            return
                        if self.due and self.due[0][0] <= time.monotonic():
                            _, n = heapq.heappop(self.due)
                            break
                        wait = self.due[0][0] - time.monotonic() if self.due else 1.0
                        ready.wait(timeout=max(0.005, min(wait, 1.0)))
                again = self.cycle(n)
                with ready:
                    if again is None:
                        self.left -= 1
                    else:
                        heapq.heappush(self.due, (again, n))
                    ready.notify_all()

        pool = [threading.Thread(target=worker) for _ in range(self.args.client_threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--outage-minutes", type=int, default=10)
    parser.add_argument("--spread-seconds", type=float, default=60.0, help="0: all at once")
    parser.add_argument("--interval", type=float, default=0, help="cycle (default: the server's)")
    parser.add_argument("--client-threads", type=int, default=64)
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker")
    parser.add_argument("--in-flight", type=int, default=2, help="check-ins at once per worker")
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied); default SQLite")
    args = parser.parse_args()
    logging.getLogger("thirdway_agent").setLevel(logging.CRITICAL)  # the 429s are counted
    load_before = os.getloadavg()
    env = demo_home(
        "thirdway-outage-bench-",
        args.database_url,
        THIRDWAY_AGENT_INGEST_IN_FLIGHT=str(args.in_flight),
    )
    home = env["THIRDWAY_HOME"]
    enrolled = thirdway(
        "manage", "shell", "-c", ENROL % args.agents, env=env, capture_output=True, text=True
    )
    made = json.loads(enrolled.stdout.strip().splitlines()[-1])
    state = Path(home) / "agents"
    buffered = fill(state, made, args.outage_minutes, time.time())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "thirdway", "serve", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603
        [*serve, "--workers", "2", "--threads", str(args.threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    replay = Replay(base, state, made, args)
    try:
        wait_for(f"{base}/api/v1/openapi.json", seconds=240)  # a loaded machine starts slowly
        began = replay.run()
    finally:
        server.terminate()
        server.wait(30)
    counted = thirdway(
        "manage", "shell", "-c", COUNT % MARK, env=env, capture_output=True, text=True
    )
    stored = json.loads(counted.stdout.strip().splitlines()[-1])
    left, dropped = 0, 0
    for n in range(len(made)):
        buffer = Buffer(state / f"agent-{n:05d}" / "buffer.sqlite3")
        left, dropped = left + buffer.count(), dropped + buffer.dropped
        buffer.close()
    own = sorted(end - start for start, end in zip(replay.first_call, replay.emptied, strict=True))

    def at(p: float) -> float:
        return round(own[min(len(own) - 1, int(p * len(own)))], 1) if own else 0.0

    report = {
        "bench": "agent_outage",
        "database": "postgresql" if args.database_url else "sqlite",
        "agents": len(made),
        "outage_minutes": args.outage_minutes,
        "spread_seconds": args.spread_seconds,
        "server_workers": 2,
        "server_threads": args.threads,
        "in_flight_per_worker": args.in_flight,
        "client_threads": args.client_threads,
        "cores": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "buffered_results": buffered,
        "catch_up_seconds": round(max(replay.emptied) - began, 1),
        "per_agent_seconds": {"p50": at(0.50), "p99": at(0.99), "max": at(1.0)},
        "cycles_max": max(replay.cycles.values()),
        "batches_sent": replay.batches,
        "results_sent": replay.sent,
        "statuses": {str(code): number for code, number in sorted(replay.statuses.items())},
        "stored": stored,
        "buffers_left": left,
        "dropped": dropped,
        "every_result_stored_once": (
            stored["results"] == stored["distinct_results"] == buffered == replay.sent
            and stored["accepted"] == buffered
            and stored["batches"] == stored["distinct_batch_ids"]
            and left == 0
            and dropped == 0
        ),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
