"""The clock loop: every tick, enqueue each periodic job whose current slot was not yet claimed."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from thirdway.clock.jobs import JOBS, PeriodicJob
from thirdway.clock.models import ClockTick

log = logging.getLogger(__name__)
EPOCH = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)  # a Monday, so weekly slots start on Mondays


def slot_of(job: PeriodicJob, now: dt.datetime) -> dt.datetime:
    periods = (now - EPOCH) // job.every
    return EPOCH + periods * job.every


def enqueue_due(now: dt.datetime | None = None, jobs=JOBS) -> list[str]:
    """Enqueue the jobs due now; returns the names enqueued by this call."""
    now = now or timezone.now()
    enqueued = []
    for job in jobs:
        try:
            if _claim_and_enqueue(job, slot_of(job, now)):
                enqueued.append(job.name)
        except Exception:
            # One broken job must not stop the others or the clock itself.
            log.exception("clock: could not enqueue %s", job.name)
    return enqueued


def _claim_and_enqueue(job: PeriodicJob, slot: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            tick = ClockTick.objects.create(job=job.name, slot=slot)
            result = import_string(job.task_path).enqueue()
            tick.task_result_id = str(result.id)
            tick.save(update_fields=["task_result_id"])
    except IntegrityError:
        return False  # another clock claimed this slot first
    log.info("clock: enqueued %s for %s", job.name, slot.isoformat())
    return True


def run_forever(interval_seconds: float = 30.0) -> None:
    log.info("clock: started, %d periodic jobs", len(JOBS))
    while True:
        enqueue_due()
        time.sleep(interval_seconds)


def start_beside_worker(
    interval_seconds: float = 30.0, stop: threading.Event | None = None
) -> threading.Thread:
    """Run the clock in a thread of this process (``thirdway worker --clock``, and the task
    worker of ``thirdway serve``) until ``stop`` is set.

    One process then does the work of two, for the memory of one.  The slot claim is the
    same, so this clock and any other still never enqueue one slot twice.  A tick that fails
    is logged and the next one tried: the thread dying would stop the clock unseen."""
    thread = threading.Thread(
        target=_tick_forever,
        args=(interval_seconds, stop or threading.Event()),
        name="clock",
        daemon=True,
    )
    thread.start()
    return thread


def _tick_forever(interval_seconds: float, stop: threading.Event) -> None:
    log.info("clock: started beside the worker, %d periodic jobs", len(JOBS))
    while not stop.is_set():
        try:
            enqueue_due()
        except Exception:
            log.exception("clock: the tick failed; trying again at the next")
        finally:
            connections.close_all()  # this thread's own; the next tick opens a fresh one
        stop.wait(interval_seconds)
