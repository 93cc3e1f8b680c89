"""The clock enqueues each periodic job once per slot, however many clocks run."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import OperationalError, connection

from thirdway.clock.jobs import JOBS, PeriodicJob
from thirdway.clock.models import ClockTick
from thirdway.clock.runner import enqueue_due, slot_of

NOW = dt.datetime(2026, 11, 23, 10, 17, tzinfo=dt.UTC)


def test_a_slot_starts_at_the_period_boundary():
    hourly = PeriodicJob("x", dt.timedelta(hours=1), "unused")
    assert slot_of(hourly, NOW) == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    daily = PeriodicJob("y", dt.timedelta(days=1), "unused")
    assert slot_of(daily, NOW) == dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)


def test_each_job_is_enqueued_once_per_slot(db):
    assert sorted(enqueue_due(NOW)) == sorted(job.name for job in JOBS)
    assert enqueue_due(NOW + dt.timedelta(seconds=20)) == []
    hourly_or_more_often = {job.name for job in JOBS if job.every <= dt.timedelta(hours=1)}
    assert set(enqueue_due(NOW + dt.timedelta(hours=1))) == hourly_or_more_often
    assert "tasks.prune_finished" not in hourly_or_more_often
    assert ClockTick.objects.count() == len(JOBS) + len(hourly_or_more_often)
    assert all(tick.task_result_id for tick in ClockTick.objects.all())


def test_a_broken_job_does_not_stop_the_others(db):
    broken = PeriodicJob("broken", dt.timedelta(hours=1), "thirdway.clock.jobs.no_such_task")
    enqueued = enqueue_due(NOW, jobs=(broken, *JOBS))
    assert "broken" not in enqueued
    assert len(enqueued) == len(JOBS)
    assert not ClockTick.objects.filter(job="broken").exists()


@pytest.mark.django_db(transaction=True)
def test_two_clocks_at_the_same_moment_enqueue_once(threads_db):
    results: list[list[str]] = []
    use_db = threads_db()
    start = threading.Barrier(4)

    def tick() -> None:
        try:
            with use_db():
                start.wait()
                results.append(enqueue_due(NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = [name for batch in results for name in batch]
    assert sorted(names) == sorted(job.name for job in JOBS)
    with use_db():
        assert ClockTick.objects.count() == len(JOBS)


@pytest.mark.django_db(transaction=True)
def test_the_clock_beside_a_worker_and_a_second_clock_enqueue_each_slot_once():
    from django_tasks_db.models import DBTaskResult

    from thirdway.clock.runner import start_beside_worker

    stop = threading.Event()
    thread = start_beside_worker(0.01, stop)
    try:
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
        while _jobs_claimed() < len(JOBS):
            assert dt.datetime.now(dt.UTC) < deadline, "the clock thread enqueued nothing"
            stop.wait(0.01)
        # A second clock ticking meanwhile, as another worker's would.
        by_second_clock = [name for _ in range(20) for name in enqueue_due()]
    finally:
        stop.set()
        thread.join(timeout=30)
        connection.close()
    assert not thread.is_alive()
    ticks = ClockTick.objects.count()
    # Every claimed slot was enqueued exactly once, whichever clock claimed it.
    assert DBTaskResult.objects.count() == ticks
    assert ClockTick.objects.values("job", "slot").distinct().count() == ticks
    assert ticks - len(by_second_clock) >= len(JOBS)  # the thread's own claims


def _jobs_claimed() -> int:
    try:
        return ClockTick.objects.values("job").distinct().count()
    except OperationalError:  # the tests' shared in-memory SQLite locks the table, not waits
        return 0
