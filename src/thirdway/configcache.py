"""Configuration that every new ticket reads (SLA policies and targets, webhooks), kept per process.

Opening a ticket read its client's service level, the policy, its targets and the active webhooks
from the database every time, although they change a few times a year.  Each answer is kept
here for ``CONFIG_CACHE_SECONDS`` (``THIRDWAY_CONFIG_CACHE_SECONDS``, default 5; 0 keeps
nothing):

- a change saved in this process (through a model's ``save`` or ``delete``) empties the cache
  when its transaction commits;
- other processes (more web workers, the task worker) read the change within that time;
- inside a transaction that changed configuration, reads go to the database and are not kept,
  so a change rolled back is never remembered.

Values are shared between the threads of a process: callers must not change what they get.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_entries: dict[Hashable, tuple[float, object]] = {}
_generation = 0
_local = threading.local()


def get(key: Hashable, load: Callable[[], T]) -> T:
    """The value kept under ``key``, or ``load()`` (kept when nothing changed meanwhile)."""
    seconds = settings.CONFIG_CACHE_SECONDS
    if seconds <= 0 or _changing():
        return load()
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]  # type: ignore[return-value]
    generation = _generation
    value = load()
    if generation == _generation:
        _entries[key] = (now + seconds, value)
    return value


def clear() -> None:
    global _generation
    _generation += 1
    _entries.clear()


def watch(*models) -> None:
    """Empty the cache whenever a row of these models is saved or deleted (apps' ``ready``)."""
    for model in models:
        post_save.connect(changed, sender=model, dispatch_uid=f"configcache-save-{model}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"configcache-delete-{model}")


def changed(**signal) -> None:
    """Configuration changed in this thread's transaction (called by the signals, and by
    services writing in bulk, which sends none)."""
    clear()
    if connection.in_atomic_block:
        _local.changing = True
    transaction.on_commit(clear)


def _changing() -> bool:
    """Whether this thread is inside a transaction that changed configuration."""
    if not getattr(_local, "changing", False):
        return False
    if connection.in_atomic_block:
        return True
    _local.changing = False  # that transaction ended: committed (cleared then) or rolled back
    clear()
    return False


def reset() -> None:
    """Forget everything, this thread's pending change included (tests, between cases)."""
    _local.changing = False
    clear()
