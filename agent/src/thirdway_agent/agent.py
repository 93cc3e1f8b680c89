"""One agent's cycle: heartbeat (and the checks it hands back), measure, buffer, deliver in
order, inventory now and then.  ``run`` repeats it at the server's interval, with jitter."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from pathlib import Path

from thirdway_agent import inventory
from thirdway_agent.buffer import Buffer
from thirdway_agent.checks import Runner
from thirdway_agent.client import Refused, Server, SlowDown, Unauthorized, Unreachable
from thirdway_agent.config import Config

logger = logging.getLogger("thirdway_agent")
BATCH_SIZE = 500
# Replay is throttled: at most this many batches per cycle, with a pause between them.
BATCHES_PER_CYCLE = 20
PAUSE_BETWEEN_BATCHES = 0.05
INVENTORY_EVERY = 6 * 3600


class Agent:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.server = Server(config.server, config.secret)
        self.buffer = Buffer(
            Path(config.state_dir) / "buffer.sqlite3",
            max_age=config.buffer_max_age_seconds,
            max_count=config.buffer_max_count,
        )
        self.runner = Runner(refuse_scripts=config.refuse_scripts)
        self.wait_until = 0.0  # a 429's Retry-After

    def close(self) -> None:
        self.server.close()
        self.buffer.close()

    @property
    def interval(self) -> int:
        return int(self.buffer.get("interval_seconds", 60))

    def _call(self, what, *args):
        """One call to the server, or None when it cannot be reached or asks to wait."""
        if time.time() < self.wait_until:
            return None
        try:
            answer = what(*args)
        except SlowDown as slow:
            self.wait_until = time.time() + slow.retry_after
            logger.warning("The server asks to wait %s s.", slow.retry_after)
            return None
        except Unreachable as error:
            logger.warning("The server cannot be reached: %s", error)
            return None
        self.buffer.put("last_contact", dt.datetime.now(dt.UTC).isoformat())
        if "server_time" in answer:
            server = dt.datetime.fromisoformat(answer["server_time"])
            skew = (dt.datetime.now(dt.UTC) - server).total_seconds()
            self.buffer.put("skew_seconds", round(skew, 3))
        return answer

    def heartbeat(self) -> bool:
        answer = self._call(
            self.server.heartbeat,
            self.buffer.get("etag", ""),
            self.buffer.count(),
            self.buffer.dropped,
        )
        if answer is None:
            return False
        self.apply_config(answer["config"])
        return True

    def apply_config(self, config: dict) -> None:
        self.buffer.put("interval_seconds", config["interval_seconds"])
        if config.get("checks") is not None:
            self.buffer.put("checks", config["checks"])
            self.buffer.put("etag", config["etag"])

    def measure(self) -> int:
        results = []
        for check in self.buffer.get("checks", []):
            if self.runner.due(check):
                results.append(self.runner.run(check))
            else:
                self.runner.sample(check)
        if results:
            self.buffer.add(results)
        return len(results)

    def deliver(self) -> int:
        """Send what is buffered, oldest first; stop at the first failure (kept for later)."""
        sent = 0
        for _ in range(BATCHES_PER_CYCLE):
            batch = self.buffer.next_batch(BATCH_SIZE)
            if batch is None:
                break
            batch_id, results = batch
            try:
                answer = self._call(self.server.results, batch_id, results)
            except Refused as error:
                logger.error("The server refused batch %s, dropped: %s", batch_id, error)
                self.buffer.put("dropped", self.buffer.dropped + len(results))
                self.buffer.acknowledged(batch_id)
                continue
            if answer is None:
                break
            for refusal in answer.get("refused", []):
                logger.warning("Result refused: %s", refusal)
            self.buffer.acknowledged(batch_id)
            sent += len(results)
            time.sleep(PAUSE_BETWEEN_BATCHES)
        return sent

    def send_inventory(self, force: bool = False) -> bool:
        last = self.buffer.get("inventory_sent", 0)
        if not force and time.time() - last < INVENTORY_EVERY:
            return False
        answer = self._call(self.server.inventory, inventory.gather())
        if answer is not None:
            self.buffer.put("inventory_sent", time.time())
        return answer is not None

    def cycle(self) -> dict:
        """One round; raises Unauthorized when the server no longer knows this agent."""
        alive = self.heartbeat()
        measured = self.measure()
        # Unreachable (or asked to wait): keep everything for the next round.
        delivered = self.deliver() if alive else 0
        if alive:
            self.send_inventory()
        return {"alive": alive, "measured": measured, "delivered": delivered}

    def run(self, rounds: int | None = None) -> None:
        done = 0
        while rounds is None or done < rounds:
            try:
                self.cycle()
            except Unauthorized:
                logger.error("The server refused this agent's secret: enrol it again.")
                raise
            done += 1
            pause = self.interval * random.uniform(0.9, 1.1)
            time.sleep(max(pause, self.wait_until - time.time(), 1.0))

    def status(self) -> dict:
        return {
            "server": self.config.server,
            "agent_id": self.config.agent_id,
            "interval_seconds": self.interval,
            "checks": len(self.buffer.get("checks", [])),
            "buffered": self.buffer.count(),
            "dropped": self.buffer.dropped,
            "last_contact": self.buffer.get("last_contact"),
            "skew_seconds": self.buffer.get("skew_seconds"),
        }


__all__ = ["Agent", "Unauthorized"]
