"""The task worker is woken through a socket in the home: a wake-up reaches the worker that
bound it (its wait ends, the wake-ups waiting taken together), only one worker of a home binds
it, a socket left by a stopped worker is taken over, and waking nobody is harmless."""

from __future__ import annotations

import select
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from thirdway import taskwake


@pytest.fixture
def home(settings):
    folder = tempfile.mkdtemp(prefix="tw-")
    settings.HOME = Path(folder)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def readable(waiter) -> bool:
    return bool(select.select([waiter.listener], [], [], 0)[0])


def test_a_wake_up_reaches_the_worker_that_waits(home):
    waiter = taskwake.Waiter.bind()
    assert waiter is not None and (home / taskwake.NAME).exists()
    try:
        assert not readable(waiter)
        taskwake.wake()
        taskwake.wake()
        assert readable(waiter)
        waiter.sleep(30)  # returns at once: woken
        assert not readable(waiter)  # both wake-ups taken together
    finally:
        waiter.close()
    assert not (home / taskwake.NAME).exists()


def test_one_worker_of_a_home_binds_and_a_stale_socket_is_taken_over(home):
    first = taskwake.Waiter.bind()
    assert first is not None
    assert taskwake.Waiter.bind() is None  # a live worker has it: the second polls
    first.listener.close()  # stopped without cleaning up
    second = taskwake.Waiter.bind()
    assert second is not None
    try:
        taskwake.wake()
        assert readable(second)
    finally:
        second.close()


def test_waking_nobody_is_harmless(home, settings):
    taskwake.wake()  # no socket
    (home / taskwake.NAME).write_text("not a socket")
    taskwake.wake()
    settings.HOME = home / ("x" * 120)
    assert taskwake.socket_path() is None
    taskwake.wake()


def test_a_stale_path_that_is_not_a_socket_is_replaced(home):
    (home / taskwake.NAME).write_text("left over")
    waiter = taskwake.Waiter.bind()
    assert waiter is not None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
            probe.connect(str(home / taskwake.NAME))
    finally:
        waiter.close()


def test_the_evaluation_asked_within_a_window_wakes_the_worker_when_it_may_start(home, monkeypatch):
    import time

    from django_tasks import task_backends

    from thirdway.monitoring import pending_results

    asked = []
    monkeypatch.setattr(pending_results, "_enqueue", asked.append)
    monkeypatch.setattr(type(task_backends["default"]), "supports_defer", True)
    trigger = pending_results.Trigger()
    waiter = taskwake.Waiter.bind()
    assert waiter is not None
    try:
        trigger.pull()  # the first of a quiet moment: at once, and the worker woken
        assert asked == [None] and readable(waiter)
        waiter.sleep(0)
        trigger.pull()  # within the window: a task set to start when it ends
        assert len(asked) == 2 and asked[1] is not None
        assert not readable(waiter)
        trigger.pull()  # a third within the window: nothing more asked
        assert len(asked) == 2
        began = time.monotonic()
        waiter.sleep(pending_results.WINDOW + 5)  # woken when it may start, not at a poll
        assert time.monotonic() - began < pending_results.WINDOW + 1
        assert not readable(waiter)
    finally:
        waiter.close()
