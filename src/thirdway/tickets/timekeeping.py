"""Who keeps time beside the tickets.

The minutes a partner records on a reply or a note belong to the ticket; a room above the
tickets (billing) turns them into time entries.  The tickets room cannot import it, so that room
registers here at start-up, and the services that write an article's minutes call
``article_time_written`` in their own transaction, right after the article is saved: a new
article with minutes, or a correction of them.  Nothing else saves an article's minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TimeKeeper = Callable[..., object]
_KEEPERS: list[TimeKeeper] = []


def keep_time_with(callback: TimeKeeper) -> None:
    """Register a keeper, called as ``callback(article, created=...)``."""
    if callback not in _KEEPERS:
        _KEEPERS.append(callback)


def article_time_written(article: Any, *, created: bool) -> None:
    """Tell the keepers that ``article``'s minutes were written (``created``: a new article)."""
    for callback in _KEEPERS:
        callback(article, created=created)
