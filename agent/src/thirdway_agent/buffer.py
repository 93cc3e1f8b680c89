"""Results waiting to be delivered, on disk (SQLite), in the order they were collected.

Bounded by age and count: the oldest are dropped first and the number dropped is kept (it is
reported in each heartbeat).  A batch being sent keeps its id until the server acknowledges
it, so a batch sent again after a lost answer is the same batch (the server stores it once);
the rows of that batch are never dropped while it is pending.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

SCHEMA = """
create table if not exists results (
    seq integer primary key autoincrement,
    queued_at real not null,
    batch_id text,
    body text not null
);
create table if not exists meta (key text primary key, value text not null);
"""


class Buffer:
    def __init__(self, path: Path, *, max_age: float = 3600, max_count: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.max_age, self.max_count = max_age, max_count

    def close(self) -> None:
        self.db.close()

    # --- small state kept beside the results ---------------------------------------------------

    def get(self, key: str, default=None):
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value) -> None:
        self.db.execute(
            "insert into meta (key, value) values (?, ?) "
            "on conflict (key) do update set value = excluded.value",
            (key, json.dumps(value)),
        )

    # --- results -------------------------------------------------------------------------------

    def add(self, results: list[dict], now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.db.execute("begin")
        self.db.executemany(
            "insert into results (queued_at, body) values (?, ?)",
            [(now, json.dumps(result)) for result in results],
        )
        self.db.execute("commit")
        self.prune(now)

    def prune(self, now: float | None = None) -> int:
        """Drop what is too old, then the oldest past the count; returns how many."""
        now = time.time() if now is None else now
        self.db.execute("begin")
        old = self.db.execute(
            "delete from results where batch_id is null and queued_at < ?", (now - self.max_age,)
        ).rowcount
        over = self.count() - self.max_count
        extra = 0
        if over > 0:
            extra = self.db.execute(
                "delete from results where seq in (select seq from results "
                "where batch_id is null order by seq limit ?)",
                (over,),
            ).rowcount
        self.db.execute("commit")
        if old + extra:
            self.put("dropped", self.dropped + old + extra)
        return old + extra

    def count(self) -> int:
        return self.db.execute("select count(*) from results").fetchone()[0]

    @property
    def dropped(self) -> int:
        return int(self.get("dropped", 0))

    def next_batch(self, size: int) -> tuple[str, list[dict]] | None:
        """The pending batch (sent, not acknowledged) again, or the oldest results as a new one."""
        rows = self.db.execute(
            "select batch_id, body from results where batch_id is not null order by seq"
        ).fetchall()
        if rows:
            return rows[0][0], [json.loads(body) for _, body in rows]
        batch_id = uuid.uuid4().hex
        self.db.execute("begin")
        self.db.execute(
            "update results set batch_id = ? where seq in "
            "(select seq from results order by seq limit ?)",
            (batch_id, size),
        )
        self.db.execute("commit")
        rows = self.db.execute(
            "select body from results where batch_id = ? order by seq", (batch_id,)
        ).fetchall()
        return (batch_id, [json.loads(body) for (body,) in rows]) if rows else None

    def acknowledged(self, batch_id: str) -> None:
        self.db.execute("delete from results where batch_id = ?", (batch_id,))
