"""The worker's watch on the mail spool: a look at the folder every half second and a drain as
soon as a message waits there, so what a mail server pipes in is a ticket about a second later
while a worker runs.  It runs in a thread of the task worker (``thirdway worker`` and the task
worker of ``thirdway serve``), or alone as ``thirdway mail watch``; it first drains what waited
while no worker ran.  Several watches (several workers) share the work: one drain
holds the spool at a time (``spool.draining``)."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.db import close_old_connections, connection, connections

from thirdway.mail import spool

log = logging.getLogger(__name__)
# Messages to a drain: in a burst, the first of a drain is a ticket once the whole drain is
# stored and processed, so drains stay small; on PostgreSQL a drain forks its processing lanes
# (worth it from lanes.MINIMUM messages), so there a drain takes one chunk of the store's.
BATCH = {"postgresql": 50}
BATCH_ELSEWHERE = 25
PAUSE_AFTER_FAILURE = 5.0  # seconds (the database away: one line in the log every 5 s)


def watch(interval: float = 0.5) -> None:
    """In the foreground until SIGTERM or SIGINT (a drain under way is finished first)."""
    stop = threading.Event()

    def stopping(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    _watch(interval, stop)


def start_beside_worker(
    interval: float = 0.5, stop: threading.Event | None = None
) -> threading.Thread:
    """Watch the spool in a thread of this process until ``stop`` is set: the task worker
    does it for the memory it already holds.  A failed drain is logged and the watch goes on."""
    thread = threading.Thread(
        target=_watch, args=(interval, stop or threading.Event()), name="mail-spool", daemon=True
    )
    thread.start()
    return thread


def _watch(interval: float, stop: threading.Event) -> None:
    from thirdway.mail.services import drain_spool

    folder = settings.MAIL_SPOOL_DIR
    batch = BATCH.get(connection.vendor, BATCH_ELSEWHERE)
    log.info("mail: watching the spool %s every %.1f s", folder, interval)
    while not stop.is_set():
        if spool.has_waiting(folder):
            close_old_connections()
            try:
                if drain_spool(limit=batch):
                    continue  # more may wait: look again at once
            except Exception:
                log.exception("mail: the spool's drain failed; the files wait for the next")
                connections.close_all()
                stop.wait(PAUSE_AFTER_FAILURE)
        stop.wait(interval)
    connections.close_all()  # this thread's own
