"""Results batches of one web process committed together (group commit).

A results batch is acknowledged only once it is committed. Committed one by one, each batch
costs its own transaction: four or five round trips to the database and, on PostgreSQL, a flush
of the write-ahead log. Under a threaded server (``thirdway serve --threads N``) the batches being
answered at the same moment in one process are handed to one writer thread, which stores all
of them in one transaction:

- which of the checks named are their agents' active checks: one SELECT for all of them;
- the batch rows: one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING``, so a batch sent
  again (its answer was lost), even twice within one group, is recognised and nothing is stored
  twice;
- the results, pending: one multi-row INSERT;

then commits once and wakes every request of the group with its own answer. Nothing waits on
purpose to make a group: the batches that arrive while a commit is under way make the next one,
so at a low rate each group is one batch, as before, and under load a commit serves many.

A group that fails (the database went away, a check deleted between the SELECT and the INSERT)
is written again one batch at a time, so one batch's trouble is that batch's answer alone. A
caller already inside a transaction (a test, a service that stores a batch among other writes)
is written in its own transaction, by its own thread: the writer's connection could not see
what it has not committed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field

from django.db import close_old_connections, connection, transaction

from thirdway.monitoring import pending_results
from thirdway.monitoring.models import AGENT_KINDS, AgentBatch, Check, CheckResult

logger = logging.getLogger(__name__)
MOST_BATCHES = 200  # a group's batches (and so its statements' size) are bounded
WAIT_SECONDS = 60.0  # a request gives up on a writer that has not answered by then
# The writer's connection is checked (its age, a health check's round trip) this often, not
# before every group; a group that fails closes a broken connection at once.
CHECK_SECONDS = 5.0
NOT_OWNED = "Not a check of this agent (unknown, paused, or another agent's)."


@dataclass(frozen=True)
class StoredBatch:
    """A batch as stored (its row's values): what the answer says of it."""

    pk: int
    agent_id: int
    batch_id: str
    received_at: dt.datetime
    accepted: int
    refused: list[dict]


@dataclass
class Job:
    """One batch to store: what the request kept (in collection order) and refused so far."""

    agent_id: int
    batch_id: str
    kept: list[dict]
    refused: list[dict]
    now: dt.datetime
    done: threading.Event = field(default_factory=threading.Event)
    answer: tuple[StoredBatch, bool] | None = None
    error: BaseException | None = None


def refusal(index: int, check_id: int, problem: str) -> dict:
    return {"index": index, "check_id": check_id, "problem": problem}


def write(jobs: list[Job]) -> int:
    """Store ``jobs`` in the caller's transaction (one is opened if none is): each job's
    ``answer`` is set to (its batch, whether it had been received before); how many results
    were stored.  The caller asks for their evaluation (``pending_results.evaluate_soon``)."""
    for job in jobs:  # a group written again one by one starts afresh
        job.answer = None
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _write_in_one_statement(jobs)
    with transaction.atomic():
        owned = _owned({(job.agent_id, result["check_id"]) for job in jobs for result in job.kept})
        for job in jobs:
            job.refused = job.refused + [
                refusal(result["index"], result["check_id"], NOT_OWNED)
                for result in job.kept
                if (job.agent_id, result["check_id"]) not in owned
            ]
            job.refused.sort(key=lambda item: item["index"])
            job.kept = [r for r in job.kept if (job.agent_id, r["check_id"]) in owned]
        made = _insert_batches(jobs)
        rows = []
        for job in jobs:
            key = (job.agent_id, job.batch_id)
            if made.get(key, (None, None))[1] is job:
                batch_pk = made[key][0]
                job.answer = (_batch(job, batch_pk, len(job.kept), job.refused), False)
                rows.extend(_pending_row(job.agent_id, result, job.now) for result in job.kept)
        _answer_duplicates([job for job in jobs if job.answer is None])
        if rows:
            CheckResult.objects.bulk_create(rows, batch_size=500)
        return len(rows)


# PostgreSQL: the whole group in one statement, so one round trip and one commit. The results
# (``v``) are joined to the agents' active checks (``owned``); each new batch row is inserted
# with what was accepted and refused (the refusals of the request, then the results of checks
# not the agent's, by their index), and the results of the batches inserted now follow them.
ONE_STATEMENT = """
WITH v AS (
    SELECT * FROM json_to_recordset(%s::json)
        AS v (job int, agent_id bigint, check_id bigint, idx int, collected_at timestamptz,
              status text, value float8, output text, reported jsonb)
), owned AS (
    SELECT v.* FROM v JOIN {check} c ON c.id = v.check_id AND c.agent_id = v.agent_id
    WHERE c.kind = ANY(%s::text[]) AND NOT c.is_paused
), jobs AS (
    SELECT * FROM json_to_recordset(%s::json)
        AS j (job int, agent_id bigint, batch_id text, early jsonb)
), b AS (
    INSERT INTO {batch} (agent_id, batch_id, received_at, accepted, refused)
    SELECT j.agent_id, j.batch_id, %s,
        (SELECT count(*) FROM owned o WHERE o.job = j.job),
        (SELECT coalesce(jsonb_agg(x.item ORDER BY (x.item ->> 'index')::int), '[]'::jsonb)
         FROM (SELECT jsonb_array_elements(j.early) AS item
               UNION ALL
               SELECT jsonb_build_object('index', v.idx, 'check_id', v.check_id,
                                         'problem', %s::text)
               FROM v WHERE v.job = j.job AND NOT EXISTS (
                   SELECT 1 FROM owned o WHERE o.job = v.job AND o.idx = v.idx)) x)
    FROM jobs j ORDER BY j.job
    ON CONFLICT (agent_id, batch_id) DO NOTHING
    RETURNING id, agent_id, batch_id, accepted, refused
), r AS (
    INSERT INTO {result} (check_id, collected_at, received_at, status, value, output,
                          pending, reported, attempts, error)
    SELECT o.check_id, o.collected_at, %s, o.status, o.value, o.output, true,
           o.reported, 0, ''
    FROM owned o JOIN jobs j ON j.job = o.job
    JOIN b ON b.agent_id = j.agent_id AND b.batch_id = j.batch_id
    ORDER BY o.job, o.collected_at, o.idx
    RETURNING 1
)
SELECT id, agent_id, batch_id, accepted, refused, (SELECT count(*) FROM r) FROM b
"""


@functools.cache
def _one_statement() -> str:
    quote = connection.ops.quote_name
    return ONE_STATEMENT.format(
        check=quote(Check._meta.db_table),
        batch=quote(AgentBatch._meta.db_table),
        result=quote(CheckResult._meta.db_table),
    )


def _execute_prepared(sql: str, params: list) -> list[tuple]:
    """Run ``sql`` with its values sent apart from it (server-side binding), prepared once per
    connection: PostgreSQL parses and plans the statement once instead of at every group, and
    psycopg sends the arrays as they are instead of quoting each value into the text in Python.
    Errors are Django's, as through its own cursor."""
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django turns preparing off; our own cursor prepares
        raw.prepare_threshold = 5
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def _write_in_one_statement(jobs: list[Job]) -> int:
    """The group in one statement (PostgreSQL, autocommit): stored and committed at once."""
    now = max(job.now for job in jobs)
    rows: list[dict] = []
    firsts: dict[tuple[int, str], int] = {}
    for number, job in enumerate(jobs):
        if (job.agent_id, job.batch_id) in firsts:  # sent twice within the group
            continue
        firsts[(job.agent_id, job.batch_id)] = number
        rows += (
            {
                "job": number,
                "agent_id": job.agent_id,
                "check_id": result["check_id"],
                "idx": result["index"],
                "collected_at": min(result["collected_at"], job.now).isoformat(),
                "status": result.get("status") or "unknown",
                "value": result.get("value"),
                "output": (result.get("output") or "")[:500],
                "reported": pending_results.reported_of(job.agent_id, result),
            }
            for result in job.kept
        )
    made = [
        {
            "job": n,
            "agent_id": jobs[n].agent_id,
            "batch_id": jobs[n].batch_id,
            "early": jobs[n].refused,
        }
        for n in firsts.values()
    ]
    # Two JSON documents rather than an array per column: json.dumps writes them in C, where
    # psycopg dumped each element of thirteen arrays in Python.
    params = [
        json.dumps(rows),
        [str(kind) for kind in AGENT_KINDS],
        json.dumps(made),
        now,
        NOT_OWNED,
        now,
    ]
    inserted = _execute_prepared(_one_statement(), params)
    for pk, agent_id, batch_id, accepted, refused, _ in inserted:
        job = jobs[firsts[(agent_id, batch_id)]]
        refused = json.loads(refused) if isinstance(refused, str) else refused
        job.answer = (_batch(job, pk, accepted, refused), False)
    _answer_duplicates([job for job in jobs if job.answer is None])
    return inserted[0][5] if inserted else 0


def _owned(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (agent, check) pairs are an agent's active agent checks: one query."""
    if not pairs:
        return set()
    found = Check.objects.filter(
        pk__in={check for _, check in pairs}, kind__in=AGENT_KINDS, is_paused=False
    ).order_by()
    return set(pairs) & {(agent, pk) for pk, agent in found.values_list("pk", "agent_id")}


def _insert_batches(jobs: list[Job]) -> dict[tuple[int, str], tuple[int, Job]]:
    """The batch rows, inserted unless received before; {(agent, batch id): (row id, the job
    that made it)} for those inserted now (the first job of a pair sent twice in the group)."""
    table = connection.ops.quote_name(AgentBatch._meta.db_table)
    refused_column = AgentBatch._meta.get_field("refused")
    values, params, firsts = [], [], {}
    for job in jobs:
        key = (job.agent_id, job.batch_id)
        if key in firsts:  # sent twice within the group: the second is a duplicate
            continue
        firsts[key] = job
        values.append("(%s, %s, %s, %s, %s)")
        params += [
            job.agent_id,
            job.batch_id,
            connection.ops.adapt_datetimefield_value(job.now),
            len(job.kept),
            refused_column.get_db_prep_save(job.refused, connection),
        ]
    # The table is the model's and every value a parameter.
    sql = (
        f"INSERT INTO {table} (agent_id, batch_id, received_at, accepted, refused) "  # noqa: S608
        f"VALUES {', '.join(values)} ON CONFLICT (agent_id, batch_id) DO NOTHING "
        "RETURNING id, agent_id, batch_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    return {(agent, batch): (pk, firsts[(agent, batch)]) for pk, agent, batch in inserted}


def _answer_duplicates(jobs: list[Job]) -> None:
    """Jobs whose batch had been received before (or earlier in this group): the stored row."""
    for job in jobs:
        stored = AgentBatch.objects.get(agent_id=job.agent_id, batch_id=job.batch_id)
        job.answer = (stored_batch(stored), True)


def stored_batch(row: AgentBatch) -> StoredBatch:
    return StoredBatch(
        row.pk, row.agent_id, row.batch_id, row.received_at, row.accepted, row.refused
    )


def _batch(job: Job, pk: int, accepted: int, refused: list[dict]) -> StoredBatch:
    return StoredBatch(pk, job.agent_id, job.batch_id, job.now, accepted, refused)


def _pending_row(agent_id: int, result: dict, now: dt.datetime) -> CheckResult:
    """A result as it arrived (its status the agent's until evaluated)."""
    return CheckResult(
        check_obj_id=result["check_id"],
        collected_at=min(result["collected_at"], now),
        received_at=now,
        status=result.get("status") or "unknown",
        value=result.get("value"),
        output=(result.get("output") or "")[:500],
        pending=True,
        reported=pending_results.reported_of(agent_id, result),
    )


class Writer:
    """The process's writer thread and the queue of batches it stores. The thread starts with
    the first batch and ends after ``IDLE_SECONDS`` without one, closing its connection."""

    # Off where a test's in-process server would leave the thread's connection open on the
    # test database: batches are then stored by the request's own thread.
    enabled = True
    IDLE_SECONDS = 30.0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0  # the process whose thread is running (0: none)
        self._checked_at = 0.0  # when the connection is next checked (monotonic)

    def store(self, job: Job) -> tuple[StoredBatch, bool]:
        """Store ``job`` (with others of this moment when there are) and return its answer once
        committed."""
        if not self.enabled or connection.in_atomic_block:
            if write([job]):
                pending_results.evaluate_soon()  # on the caller's commit
            assert job.answer is not None
            return job.answer
        with self._lock:  # a thread ending for idleness takes the lock before it goes
            if self._pid != os.getpid():  # none yet, ended, or forked: start one
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="results-writer", daemon=True).start()
                self._pid = os.getpid()
            self._queue.put(job)
        if not job.done.wait(WAIT_SECONDS):
            raise TimeoutError("The results writer did not answer in time.")
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        return job.answer

    def stop(self) -> None:
        """End the thread once it has written what it holds (tests; a process that ends)."""
        with self._lock:
            if self._pid == os.getpid():
                self._queue.put(None)  # type: ignore[arg-type]
                self._pid = 0

    def _run(self) -> None:
        jobs_queue = self._queue
        try:
            while True:
                try:
                    first = jobs_queue.get(timeout=self.IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:
                        if jobs_queue.empty():
                            if self._queue is jobs_queue:
                                self._pid = 0
                            return
                    continue
                if first is None:
                    return
                jobs = [first]
                while len(jobs) < MOST_BATCHES:
                    try:
                        job = jobs_queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        jobs_queue.put(None)  # the stop, after this group
                        break
                    jobs.append(job)
                self._write_group(jobs)
        finally:
            connection.close()

    def _write_group(self, jobs: list[Job]) -> None:
        if time.monotonic() >= self._checked_at:
            close_old_connections()
            self._checked_at = time.monotonic() + CHECK_SECONDS
        stored = 0
        try:
            stored = write(jobs)
        except Exception:  # written again one by one: one batch's trouble is its own
            connection.close_if_unusable_or_obsolete()
            for job in jobs:
                try:
                    stored += write([job])
                except Exception as error:  # handed to the waiting request
                    logger.exception("A results batch could not be stored.")
                    job.error, job.answer = error, None
                    connection.close_if_unusable_or_obsolete()
        finally:
            for job in jobs:
                job.done.set()
        if stored:  # after the answers: the requests do not wait for the task's INSERT
            pending_results.evaluate_soon()


writer = Writer()
