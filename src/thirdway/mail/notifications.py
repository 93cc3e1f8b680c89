"""Which ticket events mail the requester, joined from the mail room to ``tickets.webhooks.events``.

- a ticket opened (any channel): "received", an automatic reply;
- a public reply from the network: the reply itself;
- resolved: "resolved"; waiting on the client: "status".
Automatic ones are held back for mail that must not be answered (see ``services.inbound``).
"""

from __future__ import annotations

from thirdway.mail.models import NotificationKind
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.webhooks.events import Origin

STATUS_KINDS = {
    Status.RESOLVED: NotificationKind.RESOLVED,
    Status.WAITING_CLIENT: NotificationKind.STATUS,
}


def on_ticket_event(event: str, ticket, article, origin: Origin) -> None:
    """Queue the mail an event sends; ``origin`` is the message that caused it, if any."""
    from thirdway.mail.services import outbound

    if event == "ticket.created":
        outbound.queue_notification(
            ticket,
            NotificationKind.RECEIVED,
            key=f"received:{ticket.pk}",
            answerable=origin.answerable,
            answering=origin.message_id,
            reply_to=origin.reply_to,
            opened=True,
        )
    elif event == "ticket.replied" and article is not None and _from_network(article):
        outbound.queue_notification(
            ticket,
            NotificationKind.REPLY,
            key=f"reply:{article.pk}",
            text=article.body_text,
            author=article.author_label,
        )
    elif event == "ticket.status_changed" and ticket.status in STATUS_KINDS:
        last = ticket.articles.filter(kind="event").order_by("-id").values_list("pk", flat=True)
        marker = last.first() or 0
        outbound.queue_notification(
            ticket,
            STATUS_KINDS[ticket.status],
            key=f"status:{ticket.pk}:{marker}",
            answerable=origin.answerable,
        )


def _from_network(article) -> bool:
    author = article.author
    return article.kind == "reply" and author is not None and author.is_network_staff
