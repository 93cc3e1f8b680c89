"""Fill a database with many tickets for the service-desk benchmarks.

Run on a database that holds the large demo (``thirdway demo --size large``):

    THIRDWAY_HOME=var-bench python bench/seed_tickets.py --tickets 1000000

On PostgreSQL the rows go in with COPY (see ``copy_seed``): tickets spread over the clients,
some far busier than others, with a requester among each client's contacts, a practice, the
lead partner (or another partner of the practice) as assignee for all but new ones, a status
mix like a live desk (94 % resolved or closed, what is open opened within the last 45 days),
due times on open tickets, two articles each (the request and a reply, every tenth an
internal note), a running clock pause on waiting ones; one ticket in a thousand mentions
"quartz", one in a hundred thousand "zircon".  On SQLite the tickets go through the ORM in
batches (the older, simpler mix).  Prints one JSON line with the time taken and, on
PostgreSQL, the sizes of the database and of the ticket tables.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
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


def seed(total: int, seed_value: int, batch: int = 5000, rebuild: bool | None = None) -> dict:
    if connection.vendor == "postgresql":
        return copy_seed(total, seed_value, rebuild=rebuild)
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


# --- PostgreSQL: COPY ----------------------------------------------------------------------------
#
# Rows are written as COPY text, a chunk of tickets at a time: the tickets, their articles (the
# request, a reply, every tenth an internal note) and, for a waiting ticket, its running clock
# pause.  The search vectors are generated columns: PostgreSQL computes them as the rows arrive.
# A load that at least doubles the tickets drops the tables' plain indexes first and builds
# them again at the end (one sort each instead of millions of random inserts into 25 indexes);
# all of it is one transaction, so a failed load leaves the database as it was.

# One ticket in a thousand holds RARE, one in a hundred thousand RAREST (for search benches).
RARE, RAREST = "quartz", "zircon"
# Share of tickets in each status: a desk of millions is mostly closed tickets; what is open
# was opened within the last weeks.
STATUS_SHARES = {
    "closed": 880,
    "resolved": 60,
    "new": 6,
    "assigned": 12,
    "in_progress": 18,
    "waiting_client": 12,
    "waiting_third_party": 6,
    "scheduled": 6,
}
OPEN_STATUSES = {"new", "assigned", "in_progress", "waiting_client", "waiting_third_party"}
OPEN_STATUSES |= {"scheduled"}
WAITING_STATUSES = {"waiting_client", "waiting_third_party", "scheduled"}
NULL = r"\N"  # COPY's empty value
DUE_HOURS = {1: 4, 2: 8, 3: 24, 4: 72}
CHUNK = 100_000
TABLES = ("tickets_ticket", "tickets_article", "tickets_clockpause")
TICKET_COLUMNS = (
    "id, subject, category, type, impact, urgency, priority, priority_reason, channel, status, "
    "needs_onsite, created_at, updated_at, first_responded_at, resolved_at, closed_at, "
    "search_text, note_text, assignee_id, client_id, practice_id, requester_id, "
    "resolution_due_at, sla_due_at, unassignable_reason"
)
ARTICLE_COLUMNS = (
    "ticket_id, kind, author_label, body_html, body_text, event, data, time_spent_minutes, "
    "channel, created_at, billable, work_type"
)
PAUSE_COLUMNS = "ticket_id, reason, started_at"


class _World:
    """Who tickets are for: clients (some far busier than others), their contacts, lead
    partners and the partners of each practice."""

    def __init__(self, rng: random.Random) -> None:
        from thirdway.clients.models import Client
        from thirdway.network.models import Skill

        clients = list(Client.objects.order_by("pk").values_list("pk", "lead_partner_id"))
        if not clients:
            sys.exit("No clients: load the large demo first (thirdway demo --size large).")
        contacts: dict[int, list[tuple[int, str]]] = {}
        for client_id, pk, email in Contact.objects.order_by("pk").values_list(
            "client_id", "pk", "email"
        ):
            contacts.setdefault(client_id, []).append((pk, email))
        self.clients = [(pk, lead, contacts[pk]) for pk, lead in clients if pk in contacts]
        # A client's share falls with its rank (rank ** -0.6): the busiest of 50,000 clients
        # opens about 0.5 % of all tickets, the median one about a tenth of the average.
        ranks = list(range(1, len(self.clients) + 1))
        rng.shuffle(ranks)
        self.cumulative = list(itertools.accumulate(rank**-0.6 for rank in ranks))
        self.practices = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
        by_practice: dict[int, list[int]] = {}
        for partner_id, practice_id in Skill.objects.values_list("partner_id", "practice_id"):
            by_practice.setdefault(practice_id, []).append(partner_id)
        self.partners_of = {p: by_practice.get(p) or [None] for p in self.practices}


def _ts(moment: dt.datetime) -> str:
    return moment.isoformat()


def _chunk(rng, world: _World, first_id: int, count: int, now: dt.datetime, serial: int):
    """COPY text for ``count`` tickets from id ``first_id``: tickets, articles, pauses."""
    tickets, articles, pauses = [], [], []
    statuses, weights = list(STATUS_SHARES), list(itertools.accumulate(STATUS_SHARES.values()))
    clients, cumulative, practices = world.clients, world.cumulative, world.practices
    total_weight = cumulative[-1]
    for offset in range(count):
        pk = first_id + offset
        client_id, lead_id, contacts = clients[
            bisect.bisect(cumulative, rng.random() * total_weight)
        ]
        contact_id, email = rng.choice(contacts)
        status = statuses[bisect.bisect(weights, rng.random() * weights[-1])]
        is_open = status in OPEN_STATUSES
        age_minutes = rng.randint(0, 60 * 24 * (45 if is_open else 730))
        created = now - dt.timedelta(minutes=age_minutes)
        practice_id = rng.choice(practices)
        if status == "new":
            assignee = None
        elif rng.random() < 0.85 and lead_id is not None:
            assignee = lead_id
        else:
            assignee = rng.choice(world.partners_of[practice_id])
        words = rng.sample(WORDS, 3)
        subject = f"{words[0].capitalize()} {words[1]} problem"
        number = serial + offset
        if number % 100_000 == 0:
            subject += f" {RAREST}"
        if number % 1000 == 0:
            subject += f" {RARE}"
        text = f"Our {words[0]} and the {words[2]} stopped working this morning."
        note = f"Checked {rng.choice(WORDS)} logs." if rng.random() < 0.1 else ""
        priority = rng.choice((1, 2, 3, 3, 3, 4))
        channel = rng.choice(("email", "portal", "phone", "api"))
        replied = created + dt.timedelta(minutes=rng.randint(5, 240))
        replied = min(replied, now)
        updated = replied + dt.timedelta(hours=rng.randint(0, 72))
        if updated > now:  # spread, not all at "now": no queue order meets a wall of ties
            updated = replied + (now - replied) * rng.random()
        resolved = closed = due = NULL
        if status in ("resolved", "closed"):
            resolved = _ts(updated)
            closed = resolved if status == "closed" else NULL
        elif status not in WAITING_STATUSES:
            due = _ts(created + dt.timedelta(hours=DUE_HOURS[priority]))
        search_text = f"{subject}\\n{email}\\n{text}\\n{REPLY}"
        tickets.append(
            f"{pk}\t{subject}\t\tincident\t2\t2\t{priority}\t\t{channel}\t{status}\tf\t"
            f"{_ts(created)}\t{_ts(updated)}\t{_ts(replied)}\t{resolved}\t{closed}\t"
            f"{search_text}\t{note}\t{assignee or NULL}\t{client_id}\t"
            f"{practice_id}\t{contact_id}\t{due}\t{due}\t\n"
        )
        articles.append(
            f"{pk}\treply\trequester\t<p>{text}</p>\t{text}\t\t{{}}\t0\t{channel}\t"
            f"{_ts(created)}\tt\tremote\n"
            f"{pk}\treply\tpartner\t<p>{REPLY}</p>\t{REPLY}\t\t{{}}\t5\tweb\t{_ts(replied)}\tt\t"
            "remote\n"
        )
        if note:
            articles.append(
                f"{pk}\tnote\tpartner\t<p>{note}</p>\t{note}\t\t{{}}\t10\tweb\t{_ts(replied)}\tt\t"
                "remote\n"
            )
        if status in WAITING_STATUSES:
            pauses.append(f"{pk}\t{status}\t{_ts(updated)}\n")
    return "".join(tickets), "".join(articles), "".join(pauses)


def _plain_indexes(cursor) -> list[tuple[str, str]]:
    """(name, definition) of the tables' indexes that back no constraint and are not unique."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary "
        "ORDER BY c.relname",
        [list(TABLES)],
    )
    return list(cursor.fetchall())


def copy_seed(total: int, seed_value: int, rebuild: bool | None = None) -> dict:
    """Add ``total`` tickets with COPY (PostgreSQL); see the notes above."""
    rng = random.Random(seed_value)
    world = _World(rng)
    now = timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM tickets_ticket")
        existing, last_id = cursor.fetchone()
        if rebuild is None:
            rebuild = total >= existing
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        # The rows name only clients, contacts, practices and partners read from the database
        # just now, and tickets of this load: the foreign-key triggers are not run for them.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("LOCK TABLE tickets_ticket, tickets_article, tickets_clockpause")
        indexes = _plain_indexes(cursor) if rebuild else []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        made = 0
        while made < total:
            count = min(CHUNK, total - made)
            rows = _chunk(rng, world, last_id + 1 + made, count, now, existing + made)
            for table, columns, text in zip(
                TABLES, (TICKET_COLUMNS, ARTICLE_COLUMNS, PAUSE_COLUMNS), rows, strict=True
            ):
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(text)
            made += count
            elapsed = time.perf_counter() - started
            print(f"{made}/{total} {elapsed:.0f} s", file=sys.stderr, end="\r")
        timings["copy_seconds"] = round(time.perf_counter() - started, 1)
        for _name, definition in indexes:
            cursor.execute(definition)
        timings["index_seconds"] = round(time.perf_counter() - started - timings["copy_seconds"], 1)
        for table in TABLES:
            last = f"(SELECT coalesce(max(id), 1) FROM {table})"  # noqa: S608 - our constants
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), {last})", [table])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(TABLES))
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        count = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_database_size(current_database()), "
            + ", ".join(f"pg_total_relation_size('{table}')" for table in TABLES)
        )
        sizes = cursor.fetchone()
    mb = 1024 * 1024
    return {
        "tickets": total,
        "tickets_in_database": count,
        "seconds": round(time.perf_counter() - started, 1),
        **timings,
        "indexes_rebuilt": len(indexes),
        "database": connection.vendor,
        "database_mb": round(sizes[0] / mb),
        **{f"{table}_mb": round(size / mb) for table, size in zip(TABLES, sizes[1:], strict=True)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rebuild-indexes",
        choices=["auto", "yes", "no"],
        default="auto",
        help="PostgreSQL: drop the tables' plain indexes and build them again after the load "
        "(auto: when the load at least doubles the tickets)",
    )
    args = parser.parse_args()
    rebuild = {"auto": None, "yes": True, "no": False}[args.rebuild_indexes]
    print(json.dumps(seed(args.tickets, args.seed, rebuild=rebuild)))


if __name__ == "__main__":
    main()
