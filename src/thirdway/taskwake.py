"""Waking the task worker when a task a person waits for is enqueued, instead of leaving it to
the worker's next look at the queue (every second).

The worker (``run_worker``) binds a Unix datagram socket in ``THIRDWAY_HOME`` and, between
its looks at the queue, waits on it for at most its interval, so an idle worker costs what it
did (one look a second).  ``wake()`` sends that socket one byte after such a task was
enqueued and committed: the worker looks at the queue at once.  A wake-up never blocks and
never fails the caller: no worker listening, another machine's worker, a full buffer or a path
too long for a socket all leave the task to the poll, as before.  With several workers on one
home, the first binds the socket and is the one woken; the others poll.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import types
from pathlib import Path

from django.conf import settings

NAME = "worker-wake.sock"
# A Unix socket's path is at most 107 bytes on Linux.
LONGEST = 100


def socket_path() -> str | None:
    path = str(Path(settings.HOME) / NAME)
    return path if len(os.fsencode(path)) <= LONGEST else None


def wake() -> None:
    """Have the worker of this home look at its queue now."""
    path = socket_path()
    if path is None:
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            sender.sendto(b"!", path)
    except OSError:  # nobody listening, or its buffer full: already awake
        pass


class Waiter:
    """The worker's end: a bound socket its sleeps wait on."""

    def __init__(self, listener: socket.socket, path: str) -> None:
        self.listener, self.path = listener, path

    @classmethod
    def bind(cls) -> Waiter | None:
        """The socket bound, or None when another live worker of this home has it."""
        path = socket_path()
        if path is None:
            return None
        if os.path.exists(path):
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
                try:
                    probe.connect(path)
                except OSError:  # left by a worker that stopped
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                else:
                    return None
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            listener.bind(path)
        except OSError:
            listener.close()
            return None
        listener.setblocking(False)
        return cls(listener, path)

    def sleep(self, seconds: float) -> None:
        """Up to ``seconds``, less when woken; the wake-ups waiting are taken together."""
        ready, _, _ = select.select([self.listener], [], [], seconds)
        while ready:
            try:
                self.listener.recv(64)
            except (BlockingIOError, InterruptedError):
                break

    def close(self) -> None:
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def run_worker(interval: float) -> None:
    """django-tasks' database worker, its sleeps between looks at the queue made wakeable."""
    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker

    waiter = Waiter.bind()
    if waiter is not None:
        # The worker module's ``time`` as it was, but for its sleep.
        names = (name for name in dir(db_worker.time) if not name.startswith("__"))
        clock = types.SimpleNamespace(**{name: getattr(db_worker.time, name) for name in names})
        clock.sleep = waiter.sleep
        db_worker.time = clock
    try:
        call_command("db_worker", interval=interval)
    finally:
        if waiter is not None:
            waiter.close()
