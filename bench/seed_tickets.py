"""Fill a database with many tickets for the service-desk benchmarks.

Run on a database that holds the large demo (``thirdway demo --size large``):

    THIRDWAY_HOME=var-bench python bench/seed_tickets.py --tickets 1000000

Tickets get a requester, a practice, a lead-partner assignee for most, a status mix like a
live desk (most closed), two articles each (the request and a reply, every tenth with an
internal note), and their search texts; prints one JSON line with the time taken.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from thirdway.clients.models import Contact  # noqa: E402
from thirdway.network.models import Practice  # noqa: E402
from thirdway.tickets.models import Article, Ticket  # noqa: E402
from thirdway.tickets.search import index_rows  # noqa: E402

WORDS = [
    "printer",
    "scanner",
    "laptop",
    "outlook",
    "teams",
    "vpn",
    "wifi",
    "router",
    "firewall",
    "backup",
    "invoice",
    "sage",
    "quickbooks",
    "password",
    "phone",
    "voicemail",
    "server",
    "disk",
    "slow",
    "crash",
    "update",
    "licence",
    "mailbox",
    "calendar",
    "onedrive",
    "sharepoint",
    "antivirus",
    "phishing",
    "camera",
    "badge",
    "label",
]
STATUSES = (
    ["closed"] * 70
    + ["resolved"] * 8
    + ["new"] * 4
    + ["assigned"] * 5
    + (["in_progress"] * 6 + ["waiting_client"] * 4 + ["waiting_third_party"] * 2 + ["scheduled"])
)


def _clients() -> list[tuple[int, int, str, int | None]]:
    """(client id, requester contact id, requester e-mail, lead partner id) per client."""
    rows = Contact.objects.filter(role="admin").values_list(
        "client_id", "pk", "email", "client__lead_partner_id"
    )
    return list(rows)


def _batch(rng, clients, practices, count, now) -> list[Ticket]:
    tickets = []
    for _ in range(count):
        client_id, contact_id, email, lead_id = rng.choice(clients)
        words = rng.sample(WORDS, 3)
        subject = f"{words[0].capitalize()} {words[1]} problem"
        status = rng.choice(STATUSES)
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 730))
        text = f"Our {words[0]} and the {words[2]} stopped working this morning."
        note = f"Checked {rng.choice(WORDS)} logs." if rng.random() < 0.1 else ""
        ticket = Ticket(
            client_id=client_id,
            requester_id=contact_id,
            practice_id=rng.choice(practices),
            subject=subject,
            status=status,
            priority=rng.choice([1, 2, 3, 3, 3, 4]),
            channel=rng.choice(["email", "portal", "phone", "api"]),
            assignee_id=None if status == "new" else lead_id,
            created_at=created,
            updated_at=created + dt.timedelta(hours=rng.randint(0, 200)),
            search_text="\n".join([subject, email, text, REPLY]),
            note_text=note,
        )
        ticket.first_text = text
        tickets.append(ticket)
    return tickets


REPLY = "Thanks, I am looking at it now."


def seed(total: int, seed_value: int, batch: int = 5000) -> dict:
    rng = random.Random(seed_value)
    clients = _clients()
    practices = list(Practice.objects.values_list("pk", flat=True))
    if not clients:
        sys.exit("No clients: load the large demo first (thirdway demo --size large).")
    now, started, made = timezone.now(), time.perf_counter(), 0
    while made < total:
        count = min(batch, total - made)
        tickets = _batch(rng, clients, practices, count, now)
        with transaction.atomic():
            _fill(Ticket.objects.bulk_create(tickets))
        made += count
        print(f"{made}/{total}", file=sys.stderr, end="\r")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket; ANALYZE tickets_article;")
    return {
        "tickets": total,
        "seconds": round(time.perf_counter() - started, 1),
        "database": connection.vendor,
    }


def _fill(created: list[Ticket]) -> None:
    articles = []
    for ticket in created:
        articles.append(
            Article(
                ticket=ticket,
                kind="reply",
                author_label="requester",
                body_text=ticket.first_text,
                body_html=f"<p>{ticket.first_text}</p>",
                channel=ticket.channel,
            )
        )
        articles.append(
            Article(
                ticket=ticket,
                kind="reply",
                author_label="partner",
                body_text=REPLY,
                body_html=f"<p>{REPLY}</p>",
            )
        )
        if ticket.note_text:
            articles.append(
                Article(
                    ticket=ticket,
                    kind="note",
                    author_label="partner",
                    body_text=ticket.note_text,
                    body_html=f"<p>{ticket.note_text}</p>",
                )
            )
    Article.objects.bulk_create(articles, batch_size=5000)
    index_rows([(t.pk, t.search_text, t.note_text) for t in created])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(seed(args.tickets, args.seed)))


if __name__ == "__main__":
    main()
