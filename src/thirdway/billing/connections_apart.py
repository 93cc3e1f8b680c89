"""The month-end's parts done on several database connections at once, one thread each.

While one connection waits for PostgreSQL to write a part, another thread reads and prepares
the next: the process's work and the server's overlap (Python runs one thread at a time, the
server's work is done apart).  Only on PostgreSQL and outside a transaction of the caller's:
each thread's connection sees only what is committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connection

Part = TypeVar("Part")
Made = TypeVar("Made")

# How long a part waits for the one before it (to take its numbers, or to commit).
WAIT_SECONDS = 600


def may_work_apart(workers: int) -> bool:
    """Whether ``workers`` threads can share the work: more than one, on PostgreSQL, and the
    caller not inside a transaction (which the threads' connections would not see)."""
    return workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def in_threads(
    work: Callable[[int, Part], Made], parts: Sequence[Part], workers: int
) -> list[Made]:
    """``work(index, part)`` for every part on ``workers`` threads, each its own connection,
    parts handed out in order, none after one failed; the results in the parts' order.  The
    first part's error (in their order) is raised once every thread has stopped."""
    results: dict[int, Made] = {}
    errors: dict[int, BaseException] = {}
    handed = iter(range(len(parts)))
    hand = threading.Lock()

    def worker() -> None:
        try:
            while True:
                with hand:  # none handed out after an error: as one part after the other
                    index = None if errors else next(handed, None)
                if index is None:
                    return
                try:
                    results[index] = work(index, parts[index])
                except BaseException as error:  # kept for the caller, raised below
                    errors[index] = error
        finally:
            connection.close()  # this thread's own

    threads = [threading.Thread(target=worker) for _ in range(min(workers, len(parts)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[min(errors)]
    return [results[index] for index in range(len(parts))]


class EarlierPartFailed(RuntimeError):
    """A part before this one failed: this one is not committed (as a run one part after the
    other would have stopped there)."""


class InTurn:
    """Parts that must take their numbers one after the other and commit in order, done on
    several connections: part ``k`` takes its numbers once part ``k - 1`` has taken its own
    (the series' row lock then holds it until ``k - 1`` commits), and commits only if ``k - 1``
    committed."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._numbered = 0  # parts that took their numbers, or had none to take
        self._outcome: dict[int, bool] = {}

    def _failed_before(self, index: int) -> bool:
        return any(not done for at, done in self._outcome.items() if at < index)

    def wait_to_number(self, index: int) -> None:
        """Wait until the part before has taken its numbers; EarlierPartFailed if a part before
        failed."""
        with self._changed:
            ready = self._changed.wait_for(
                lambda: self._numbered >= index or self._failed_before(index), WAIT_SECONDS
            )
            if not ready:
                raise TimeoutError(f"Part {index} waited too long to take its numbers.")
            if self._failed_before(index):
                raise EarlierPartFailed(index)

    def numbered(self, index: int) -> None:
        with self._changed:
            self._numbered = max(self._numbered, index + 1)
            self._changed.notify_all()

    def wait_to_commit(self, index: int) -> None:
        """Wait for the part before to commit or fail; EarlierPartFailed if it failed."""
        if index == 0:
            return
        with self._changed:
            if not self._changed.wait_for(lambda: index - 1 in self._outcome, WAIT_SECONDS):
                raise TimeoutError(f"Part {index} waited too long for the one before.")
            if not self._outcome[index - 1]:
                raise EarlierPartFailed(index)

    def finished(self, index: int, committed: bool) -> None:
        with self._changed:
            self._outcome[index] = committed
            if committed:
                self._numbered = max(self._numbered, index + 1)
            self._changed.notify_all()
