"""Full-text search over tickets: SQLite FTS5 or PostgreSQL full-text, one interface.

Each ticket keeps two texts: ``search_text`` (subject, requester e-mail, public replies), which
anyone who sees the ticket may search, and ``note_text`` (internal notes), which only the
network searches.  Results are always filtered by ``Ticket.objects.for_user``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from thirdway.tickets.models import Article, ArticleKind, Ticket, pk_of_number

# Table and column names below are constants of ours; every value goes in as a parameter.
FTS_TABLE = "tickets_ticket_fts"
MARK_START, MARK_END = "\x02", "\x03"  # stand-ins, escaped then turned into <mark> tags


def index_rows(rows: list[tuple[int, str, str]]) -> None:
    """Write (ticket id, search text, note text) rows to the SQLite index (bulk loads use it).

    One statement replaces whatever row the id had: a new ticket can meet a stale row when an
    id is used again after its first ticket's rows were emptied from the tables.
    """
    if connection.vendor != "sqlite" or not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, search_text, note_text) "  # noqa: S608
            "VALUES (%s, %s, %s)",
            rows,
        )


def search_text_of(ticket: Ticket, replies: list[str]) -> str:
    """The public search text of ``ticket`` with these public replies."""
    public = [ticket.subject]  # the number is found through its id, see ``search``
    public.append(ticket.requester.email if ticket.requester_id else "")
    return "\n".join(filter(None, [*public, *replies]))


def refresh_search_text(ticket: Ticket) -> None:
    """Rebuild a ticket's search texts from its current content."""
    articles = list(Article.objects.filter(ticket=ticket).values_list("kind", "body_text"))
    search_text = search_text_of(
        ticket, [text for kind, text in articles if kind == ArticleKind.REPLY]
    )
    note_text = "\n".join(
        filter(None, [text for kind, text in articles if kind == ArticleKind.NOTE])
    )
    Ticket.objects.filter(pk=ticket.pk).update(search_text=search_text, note_text=note_text)
    ticket.search_text, ticket.note_text = search_text, note_text
    index_rows([(ticket.pk, search_text, note_text)])


@dataclass
class Hit:
    ticket: Ticket
    snippet: str  # safe HTML with <mark> around the matches


def search(user, query: str, limit: int = 50) -> list[Hit]:
    """Tickets ``user`` may see that match ``query``, newest first, with highlighted snippets.

    The match and the visibility rule run in one query, so a partner who sees a few tickets
    among a million still gets all of theirs, not their share of a global top list.
    """
    terms = _terms(query)
    if not terms:
        return []
    include_notes = user.is_network_staff
    visible = Ticket.objects.for_user(user)
    matches = list(visible.filter(_matching(terms, include_notes)).order_by("-id")[: limit * 2])
    by_number = pk_of_number(query)
    if by_number is not None:
        exact = visible.filter(pk=by_number).first()
        if exact is not None:
            matches = [exact, *[t for t in matches if t.pk != by_number]]
    hits = []
    for ticket in matches:
        if ticket.pk == by_number or _contains(ticket, terms, include_notes):
            hits.append(Hit(ticket, _snippet(ticket, terms, include_notes)))
        if len(hits) == limit:
            break
    return hits


def _terms(query: str) -> list[str]:
    """Words of the query, as plain tokens (no operators reach the search engines)."""
    words = re.findall(r"[\w@.+-]+", query.lower())
    return [word for word in words if len(word) >= 2 and re.search(r"\w", word)][:8]


def _matching(terms: list[str], include_notes: bool) -> Q | RawSQL:
    """The condition a ticket's texts meet when they hold every term.

    On SQLite the ids come from the FTS5 table as a sub-select; on PostgreSQL the condition is
    on the ticket's own row, so the planner weighs the index, the visibility rule and the order
    in one scan of the table instead of joining every match back to its ticket.
    """
    if connection.vendor == "sqlite":
        columns = "{search_text note_text}" if include_notes else "search_text"
        # Each term quoted so FTS5 treats it as a literal prefix, never as query syntax.
        match = " AND ".join(f'{columns} : "{term.replace(chr(34), "")}"*' for term in terms)
        ids = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])  # noqa: S608, S611
        return Q(pk__in=ids)
    tsquery = " & ".join(re.sub(r"[^\w@.+-]", "", term) + ":*" for term in terms)
    document = PG_DOCUMENT_WITH_NOTES if include_notes else PG_DOCUMENT
    return RawSQL(  # noqa: S611 - constants of ours; the query goes in as a parameter
        f'"tickets_ticket"."{document}" @@ to_tsquery(\'simple\', %s)',
        [tsquery],
        output_field=BooleanField(),
    )


# PostgreSQL keeps each ticket's vectors in generated columns (migration 0015), computed when
# the row is written from ``to_tsvector('simple', translate(text, '<>', '  '))``: the parser
# reads "<word>" as an HTML tag and drops it (with all of <script>...</script>), and the texts
# are plain, so angle brackets are read as spaces, as FTS5 reads them.  Their GIN indexes take
# inserts straight into the tree, so a search never waits for a vacuum to be cheap.
PG_DOCUMENT = "search_vector"
PG_DOCUMENT_WITH_NOTES = "search_all_vector"


def _contains(ticket: Ticket, terms: list[str], include_notes: bool) -> bool:
    """A last check against the ticket's own text, so an index row never outlives its ticket."""
    text = (ticket.search_text + ("\n" + ticket.note_text if include_notes else "")).lower()
    words = set(re.findall(r"[\w@.+-]+", text))
    return all(any(word.startswith(term) for word in words) or term in text for term in terms)


def _snippet(ticket: Ticket, terms: list[str], include_notes: bool, width: int = 160) -> str:
    """The first passage that holds a term, escaped, with each term marked."""
    text = ticket.search_text + ("\n" + ticket.note_text if include_notes else "")
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    found = pattern.search(text)
    start = max(0, found.start() - width // 3) if found else 0
    passage = text[start : start + width].replace("\n", " ")
    marked = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", passage)
    escaped = html.escape(marked)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
