"""The month-end's parts done by several processes at once, each with its own connection.

Python runs one thread at a time in a process, so threads only overlap the process's work with
the server's; processes put the month-end's Python on every core.  The parent closes its
connections and forks one child per worker (a child must never write on its parent's
connection); each child opens its own, takes the next part from a shared counter, sends back
what the part made, and ends with the process that forked it.  Only on PostgreSQL (SQLite
writes one transaction at a time), outside a transaction of the caller's (which the children's
connections would not see), where processes can fork.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import TypeVar

from django.db import connection, connections

from thirdway.children import die_with

Part = TypeVar("Part")
Made = TypeVar("Made")

# How long a part waits for the one before it (to take its numbers, or to commit).
WAIT_SECONDS = 600
# The most processes a month-end may use (the run page and the API refuse more).
MOST_WORKERS = 4

_FORK = multiprocessing.get_context("fork") if hasattr(os, "fork") else None


def may_work_apart(workers: int) -> bool:
    """Whether ``workers`` processes can share the work: more than one, on PostgreSQL, where
    processes fork, and the caller not inside a transaction."""
    return (
        workers > 1
        and _FORK is not None
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def in_processes(
    work: Callable[[int, Part], Made],
    parts: Sequence[Part],
    workers: int,
    lost: Callable[[int], None] | None = None,
) -> list[Made]:
    """``work(index, part)`` for every part in ``workers`` forked processes, parts handed out
    in order, none after one failed; the results in the parts' order.  The first part's error
    (in their order) is raised once every process has ended.  ``lost(index)`` is called for a
    part whose process died in it."""
    assert _FORK is not None
    count = min(workers, len(parts))
    if count == 0:
        return []
    handed = _FORK.Value("i", 0)  # the next part's index; its lock hands parts out
    stopped = _FORK.Value("b", 0, lock=False)  # a part failed: no more are handed out
    connections.close_all()  # opened again by each child, and here when next used
    parent, readers, children = os.getpid(), [], []
    for _ in range(count):
        reader, writer = _FORK.Pipe(duplex=False)
        child = _FORK.Process(
            target=_worker, args=(parent, writer, work, parts, handed, stopped), daemon=True
        )
        child.start()
        writer.close()
        readers.append(reader)
        children.append(child)
    results, errors = _gathered(readers, lost)
    for child in children:
        child.join()
    if errors:
        raise errors[min(errors)]
    missing = [index for index in range(len(parts)) if index not in results]
    if missing:
        raise RuntimeError(f"Part {missing[0]} was never done: its process ended first.")
    return [results[index] for index in range(len(parts))]


def _gathered(readers: list[Connection], lost) -> tuple[dict, dict]:
    """What the children send, until each has ended: results and errors by part."""
    results: dict[int, object] = {}
    errors: dict[int, BaseException] = {}
    working: dict[Connection, int] = {}
    live = list(readers)
    while live:
        for reader in wait(live):
            try:
                message = reader.recv()  # type: ignore[union-attr]
            except EOFError:
                live.remove(reader)
                if reader in working and lost is not None:
                    lost(working[reader])  # died in the part: the parts after it stop
                continue
            kind, index, payload = message
            if kind == "start":
                working[reader] = index  # type: ignore[index]
                continue
            working.pop(reader, None)  # type: ignore[call-overload]
            (results if kind == "done" else errors)[index] = payload
    return results, errors


def _worker(parent: int, writer: Connection, work, parts, handed, stopped) -> None:
    """A child's loop: the next part, until none is left or one failed."""
    die_with(parent)
    try:
        while True:
            with handed.get_lock():
                index = None if stopped.value or handed.value >= len(parts) else handed.value
                handed.value += index is not None
            if index is None:
                return
            writer.send(("start", index, None))
            try:
                made = work(index, parts[index])
            except BaseException as error:  # sent to the parent, raised there
                stopped.value = 1
                writer.send(("failed", index, _sendable(error)))
                return
            writer.send(("done", index, made))
    finally:
        connections.close_all()
        writer.close()


def _sendable(error: BaseException) -> BaseException:
    """The error itself, or a RuntimeError naming it when it cannot be pickled (to be
    sent to the parent)."""
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


class EarlierPartFailed(RuntimeError):
    """A part before this one failed: this one is not committed (as a run one part after the
    other would have stopped there)."""


class InTurn:
    """Parts that must take their numbers one after the other and commit in order, done by
    several processes: part ``k`` takes its numbers once part ``k - 1`` has taken its own
    (the series' row lock then holds it until ``k - 1`` commits), and commits only if ``k - 1``
    committed.  Made before the processes fork; its state is in memory they share."""

    def __init__(self, parts: int) -> None:
        assert _FORK is not None
        self._changed = _FORK.Condition()
        self._numbered = _FORK.Value("i", 0, lock=False)  # parts numbered, or with none to take
        self._outcome = _FORK.Array("b", max(parts, 1), lock=False)  # 0 open, 1 done, 2 failed

    def _failed_before(self, index: int) -> bool:
        return any(self._outcome[at] == 2 for at in range(index))

    def wait_to_number(self, index: int) -> None:
        """Wait until the part before has taken its numbers; EarlierPartFailed if a part before
        failed."""
        with self._changed:
            ready = self._changed.wait_for(
                lambda: self._numbered.value >= index or self._failed_before(index), WAIT_SECONDS
            )
            if not ready:
                raise TimeoutError(f"Part {index} waited too long to take its numbers.")
            if self._failed_before(index):
                raise EarlierPartFailed(index)

    def numbered(self, index: int) -> None:
        with self._changed:
            self._numbered.value = max(self._numbered.value, index + 1)
            self._changed.notify_all()

    def wait_to_commit(self, index: int) -> None:
        """Wait for the part before to commit or fail; EarlierPartFailed if it failed."""
        if index == 0:
            return
        with self._changed:
            if not self._changed.wait_for(lambda: self._outcome[index - 1] != 0, WAIT_SECONDS):
                raise TimeoutError(f"Part {index} waited too long for the one before.")
            if self._outcome[index - 1] == 2:
                raise EarlierPartFailed(index)

    def finished(self, index: int, committed: bool) -> None:
        with self._changed:
            self._outcome[index] = 1 if committed else 2
            if committed:
                self._numbered.value = max(self._numbered.value, index + 1)
            self._changed.notify_all()
