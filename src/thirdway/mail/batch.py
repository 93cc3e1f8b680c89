"""Look-ups read once per batch of messages (a poll, the pending sweep) instead of once per
message: the mailboxes' addresses and the notification templates.

Outside a batch every call reads the database, so a single message (the pipe, the HTTP
endpoint) always sees the current settings; inside one, a change made meanwhile is seen by
the next batch.  A batch's values live only as long as the batch.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

T = TypeVar("T")
_values: contextvars.ContextVar[dict | None] = contextvars.ContextVar("batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Share look-ups between the messages processed inside (nested batches share the outer)."""
    if _values.get() is not None:
        yield
        return
    token = _values.set({})
    try:
        yield
    finally:
        _values.reset(token)


def once(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, or what it gave earlier in this batch."""
    values = _values.get()
    if values is None:
        return read()
    if key not in values:
        values[key] = read()
    return values[key]
