"""What a reader may see of the timeline's events about other tickets.

A merge, a split or a link writes an event on each ticket it touches, naming the other ticket
("Merged into TW-10123.", "Now related to TW-10456.") and keeping its id in the event's data.
Someone who sees one ticket but not the other (an associate, a partner outside that client's
team, a client user) reads the same event in neutral words, "another ticket", and without the
other ticket's id: the number is the id plus an offset, so the id would tell it too.  The web
ticket page, the portal and the API answer with the same text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from thirdway.tickets.models import Article, LinkKind, Ticket

# The keys of an event's data that hold the id of another ticket, by event.
OTHER_TICKET_KEYS = {
    "merged": ("into", "from"),
    "split": ("into", "from"),
    "linked": ("target",),
    "preempted": ("for", "set_aside"),
}


def other_tickets(article: Article) -> set[int]:
    """The ids of the other tickets an event names."""
    data = article.data or {}
    keys = OTHER_TICKET_KEYS.get(article.event, ())
    named = set()
    for key in keys:
        value = data.get(key)
        values = value if isinstance(value, list) else [value]
        named |= {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
    return named


def unseen_tickets(user, articles: Iterable[Article]) -> set[int]:
    """The other tickets named by these events that ``user`` may not see (one query at most)."""
    named = set().union(*(other_tickets(article) for article in articles))
    if not named:
        return set()
    seen = Ticket.objects.for_user(user).filter(pk__in=named).values_list("pk", flat=True)
    return named - set(seen)


def neutral_text(article: Article) -> str:
    """The event told without naming the other ticket."""
    data = article.data or {}
    moved = len(data.get("articles") or [])
    if article.event == "merged":
        if "into" in data:
            return "Merged into another ticket."
        return f"Another ticket merged into this ticket ({moved} articles)."
    if article.event == "preempted":
        if "for" in data:
            return "Set aside for an urgent ticket; the work done so far is kept."
        return "Taken at once, setting other work aside."
    if article.event == "split":
        if "into" in data:
            return f"{moved} articles split off into another ticket."
        return "Split off from another ticket."
    try:
        label = LinkKind(data.get("kind")).label.lower()
    except ValueError:
        label = "linked to"
    return f"Now {label} another ticket."


def for_reader(user, articles: Sequence[Article]) -> Sequence[Article]:
    """``articles``, with each event about a ticket ``user`` may not see told in neutral words
    and without that ticket's id.  The instances are changed in memory for this answer only
    (they are never saved)."""
    unseen = unseen_tickets(user, articles)
    for article in articles:
        if other_tickets(article) & unseen:
            article.body_text = neutral_text(article)
            article.body_html = ""
            keys = OTHER_TICKET_KEYS[article.event]
            article.data = {key: value for key, value in article.data.items() if key not in keys}
    return articles


class ReaderTimeline:
    """A query of articles that, sliced into a page, gives :func:`for_reader`'s articles (for
    the API's paginated timeline)."""

    def __init__(self, user, articles: Any) -> None:
        self.user = user
        self.articles = articles

    def __getitem__(self, page: slice) -> Sequence[Article]:
        return for_reader(self.user, list(self.articles[page]))

    def __len__(self) -> int:
        return self.articles.count()


def seen_merge_target(user, ticket: Ticket) -> int | None:
    """The id of the ticket ``ticket`` was merged into, when ``user`` may see it (else None).
    Asks the database only for merged tickets, which are few in any list."""
    if ticket.merged_into_id is None or user is None:
        return None
    if Ticket.objects.for_user(user).filter(pk=ticket.merged_into_id).exists():
        return ticket.merged_into_id
    return None
