"""Thread references: every Message-ID we received or sent for a ticket, so a reply finds its
ticket by In-Reply-To or References, and what we send chains the ticket's thread.

While a message is processed, the references it brings (its own Message-ID and those of the
notifications it causes) are gathered and written in one statement when its processing ends,
inside the same transaction; elsewhere each is written at once.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from thirdway.mail.models import ThreadReference
from thirdway.mail.parsing import message_key

_gathering: contextvars.ContextVar[list[ThreadReference] | None] = contextvars.ContextVar(
    "gathering", default=None
)


def remember(message_id: str, ticket) -> None:
    """Record a Message-ID (received or sent) as part of the ticket's thread."""
    if not message_id:
        return
    reference = ThreadReference(
        message_key=message_key(message_id, b""), message_id=message_id[:998], ticket=ticket
    )
    gathered = _gathering.get()
    if gathered is not None:
        gathered.append(reference)
        return
    ThreadReference.objects.bulk_create([reference], ignore_conflicts=True)


def recent(ticket, limit: int = 20) -> list[str]:
    """The ticket's last ``limit`` Message-IDs, oldest first (those still gathered last)."""
    stored = list(
        ThreadReference.objects.filter(ticket=ticket)
        .order_by("-id")
        .values_list("message_id", flat=True)[:limit]
    )[::-1]
    waiting = [ref.message_id for ref in _gathering.get() or () if ref.ticket_id == ticket.pk]
    return (stored + waiting)[-limit:]


@contextlib.contextmanager
def gathering() -> Iterator[None]:
    """Gather the references remembered inside, and write them in one statement at the end
    (nothing is written when the block raises: its transaction is rolled back anyway)."""
    gathered: list[ThreadReference] = []
    token = _gathering.set(gathered)
    try:
        yield
    finally:
        _gathering.reset(token)
    if gathered:
        ThreadReference.objects.bulk_create(gathered, ignore_conflicts=True)
