"""Which ticket events mail the requester, joined from the mail room to ``tickets.webhooks.events``.

- a ticket opened (any channel): "received", an automatic reply;
- a public reply from the network: the reply itself;
- resolved: "resolved"; waiting on the client: "status".
Automatic ones are held back for mail that must not be answered (see ``services.inbound``).
"""

from __future__ import annotations

from thirdway.mail.models import NotificationKind
from thirdway.tickets.lifecycle import Status

STATUS_KINDS = {
    Status.RESOLVED: NotificationKind.RESOLVED,
    Status.WAITING_CLIENT: NotificationKind.STATUS,
}


def on_ticket_event(event: str, ticket, article) -> None:
    from thirdway.mail.services import inbound, outbound

    answerable = inbound.answerable.get()
    answering = inbound.answering.get()
    if event == "ticket.created":
        inbound.heard_opening(ticket, article)
        outbound.queue_notification(
            ticket,
            NotificationKind.RECEIVED,
            key=f"received:{ticket.pk}",
            answerable=answerable,
            answering=answering,
            reply_to=inbound.answer_to.get(),
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
            answerable=answerable,
        )


def _from_network(article) -> bool:
    author = article.author
    return article.kind == "reply" and author is not None and author.is_network_staff
