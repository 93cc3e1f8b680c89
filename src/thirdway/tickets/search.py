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
from django.db.models import BooleanField, F, Q, Value
from django.db.models.expressions import OrderBy, RawSQL

from thirdway.tickets.access import ticket_rule
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

    The match and the visibility rule run together in the database, so a partner who sees a
    few tickets among millions still gets all of theirs, not their share of a global top list.
    """
    terms = _terms(query)
    if not terms:
        return []
    include_notes = user.is_network_staff
    matches = _newest_matches(user, terms, include_notes, limit * 2)
    by_number = pk_of_number(query)
    if by_number is not None:
        exact = Ticket.objects.for_user(user).filter(pk=by_number).first()
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


def _newest_matches(user, terms: list[str], include_notes: bool, wanted: int) -> list[Ticket]:
    """The ``wanted`` newest tickets ``user`` sees that hold every term.

    On SQLite, and on PostgreSQL under ``LARGE_DESK`` tickets, one query.  On a larger desk
    (see ``_walk_is_cheaper``), rare words: one query reading the GIN index (for whoever sees
    every ticket, first among the newest 5,000 tickets, then the newest 2 %).  Common words:
    one query for whoever sees every ticket; for others one per branch of their access rule
    (as the queues do), merged here: each branch -- a few clients, what is assigned to them,
    the unassigned tickets of their practices -- is walked newest first through its own
    index, where the OR of them walked the id index across the tickets of everyone else.
    """
    queries, from_gin = search_queries(user, terms, include_notes, wanted)
    sees_all = ticket_rule(user) is None
    if from_gin and sees_all:
        # "Rare" may only mean "written since the last ANALYZE": a word now in every ticket
        # would be read whole from the GIN index.  The newest few thousand tickets are tested
        # first (a bounded walk); a common word has its page there.
        newest = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        probe = Ticket.objects.filter(
            _matching(terms, include_notes, indexed=False), pk__gt=newest - PROBE
        ).order_by("-id")
        found = _merged([probe], wanted)
        if len(found) >= wanted:
            return found
    window = _newest_window(terms, include_notes) if from_gin and sees_all else None
    if window is not None:
        # The newest tickets first: a word in one ticket of a thousand has its page among the
        # newest 2 %, read from a few hundred heap pages instead of its ten thousand (on a
        # large desk, mostly not in memory).  Too few there: every match, as below.
        found = _merged([query.filter(pk__gt=window) for query in queries], wanted)
        if len(found) >= wanted:
            return found
    return _merged(queries, wanted)


def _merged(queries: list, wanted: int) -> list[Ticket]:
    found: dict[int, Ticket] = {}
    for query in queries:
        for ticket in query[:wanted]:
            found[ticket.pk] = ticket
    return [found[pk] for pk in sorted(found, reverse=True)[:wanted]]


# How many of the newest tickets a search expected to find few matches tests first.
PROBE = 5_000
# The share of the newest tickets a search of few matches reads first (``_newest_window``),
# on a table of at least so many tickets that the share holds this many.
WINDOW_SHARE = 0.02
WINDOW_MIN = 10_000


def _newest_window(terms: list[str], include_notes: bool) -> int | None:
    """The id above which the newest ``WINDOW_SHARE`` of tickets lie, on a table large enough
    for reading them first to matter; else None."""
    _, tickets = _estimated_share(terms, PG_DOCUMENT_WITH_NOTES if include_notes else PG_DOCUMENT)
    span = int(tickets * WINDOW_SHARE)
    if span < WINDOW_MIN:
        return None
    newest = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return newest - span if newest > span else None


def search_queries(user, terms: list[str], include_notes: bool, wanted: int) -> tuple[list, bool]:
    """The queries ``_newest_matches`` runs, unsliced (benches explain them), and whether they
    read the matches from the GIN index."""
    if connection.vendor != "postgresql":  # one look-up in the FTS5 table, as before
        visible = Ticket.objects.for_user(user).filter(_matching(terms, include_notes))
        return [visible.order_by("-id")], False
    walk = _walk_is_cheaper(terms, include_notes, wanted)
    if walk is None:
        # A small desk: one query, the planner's choice (a few ms either way at 50,000).
        visible = Ticket.objects.for_user(user).filter(_matching(terms, include_notes))
        return [visible.order_by("-id")], False
    # Many matches: the words are tested on each row read newest first.  Few: the matches are
    # read from the GIN index and sorted (``id + 0``, which no index provides, so the planner
    # cannot walk instead).
    if not walk:
        # One query: the GIN index's matches ANDed with the bitmaps of the access rule's
        # branches (each from its own index), then sorted.
        matching = _matching(terms, include_notes)
        order = OrderBy(F("id") + Value(0), descending=True)
        return [Ticket.objects.for_user(user).filter(matching).order_by(order)], True
    matching = _matching(terms, include_notes, indexed=False)
    branches = Ticket.objects.branches_for_user(user)
    return [branch.filter(matching).order_by("-id") for branch in branches], False


def _matching(terms: list[str], include_notes: bool, indexed: bool = True) -> Q | RawSQL:
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
    # ``IS TRUE`` (the same rows: the vector is never null) is a test no index answers, so
    # the planner walks the id index and stops at the page's tickets.
    test = "" if indexed else " IS TRUE"
    return RawSQL(  # noqa: S611 - constants of ours; the query goes in as a parameter
        f'("tickets_ticket"."{document}" @@ to_tsquery(\'simple\', %s)){test}',
        [tsquery],
        output_field=BooleanField(),
    )


# Reading a matching ticket through the bitmap costs about this many times reading one on the
# walk of the id index (random heap pages, the recheck of the vector, a sort at the end).
BITMAP_ROW_COST = 4
# From this many tickets the search chooses its plan itself; below, PostgreSQL's one query
# answers within a few ms whatever it guesses (measured at 50,000, right after bulk inserts).
LARGE_DESK = 200_000


def _walk_is_cheaper(terms: list[str], include_notes: bool, wanted: int) -> bool | None:
    """Whether walking the id index beats reading the matches from the GIN index (None: leave
    it to PostgreSQL, on a table under ``LARGE_DESK`` tickets or without statistics).

    Two plans serve "the newest ``wanted`` tickets holding these words": walk the id index
    backwards and test each ticket (about ``wanted / share`` rows read: cheap for common words)
    or read every match from the GIN index and sort them (about ``share * tickets`` rows:
    cheap for rare ones).  PostgreSQL guesses badly both ways: a word outside the statistics'
    common list (a rare word, or one first written since the last ANALYZE) it takes for 2 %
    of the table as ``word:*`` and walks -- for a word in ten tickets of ten million, the whole
    table; two common words it takes for rare together and reads through a bitmap that
    overflows ``work_mem``.  The share is estimated here from the same statistics, a word
    missing from the list counting as rare; the caller writes the query so that only the
    chosen plan is open to the planner.
    """
    column = PG_DOCUMENT_WITH_NOTES if include_notes else PG_DOCUMENT
    share, tickets = _estimated_share(terms, column)
    if share is None or tickets < LARGE_DESK:
        return None  # no statistics yet, or a small table: as PostgreSQL would choose
    return BITMAP_ROW_COST * share * tickets >= wanted / max(share, 1e-9)


def _estimated_share(terms: list[str], column: str) -> tuple[float | None, float]:
    """The share of tickets holding every term (None: no statistics), and how many tickets
    there are, from the column's most common lexemes as ANALYZE last saw them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
            "AND s.tablename = c.relname AND s.attname = %s "
            "WHERE c.oid = 'tickets_ticket'::regclass",
            [column],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None, 0.0
    lexemes, frequencies, tickets = row
    share = 1.0
    for term in terms:
        word = re.sub(r"[^\w@.+-]", "", term)
        # ``word:*`` matches every lexeme it begins; one outside the list is rarer than all
        # of the list, so counting it as none at all only errs towards the index.
        found = sum(
            f for lexeme, f in zip(lexemes, frequencies, strict=False) if lexeme.startswith(word)
        )
        share *= min(found, 1.0)
    return share, max(float(tickets), 0.0)


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
