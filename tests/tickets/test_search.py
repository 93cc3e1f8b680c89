"""Search finds what a person may see, and nothing else, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from thirdway.tickets import services
from thirdway.tickets.search import search


@pytest.fixture
def tickets(cast):
    acme = services.create_ticket(
        cast.client_user,
        cast.acme,
        subject="Printer jammed",
        body_text="The espresso printer in the bakery is jammed.",
        source="web",
    )
    services.note(cast.partner, acme, body_text="Supplier code kiwi-42", source="web")
    globex = services.create_ticket(
        cast.other_client_user,
        cast.globex,
        subject="Printer offline",
        body_text="Dental printer shows offline.",
        source="web",
    )
    return acme, globex


def numbers(user, query) -> set[str]:
    return {hit.ticket.number for hit in search(user, query)}


def test_each_person_finds_only_the_tickets_they_may_see(cast, tickets):
    acme, globex = tickets
    assert numbers(cast.admin, "printer") == {acme.number, globex.number}
    assert numbers(cast.desk, "printer") == {acme.number, globex.number}
    assert numbers(cast.partner, "printer") == {acme.number}
    assert numbers(cast.other_partner, "printer") == {globex.number}
    assert numbers(cast.client_user, "printer") == {acme.number}
    assert numbers(cast.client_admin, "printer") == {acme.number}
    assert numbers(cast.other_client_user, "printer") == {globex.number}
    assert numbers(cast.associate, "printer") == set()
    assert numbers(cast.outsider, "printer") == set()


def test_internal_notes_are_searched_for_the_network_only(cast, tickets):
    acme, _ = tickets
    assert numbers(cast.partner, "kiwi") == {acme.number}
    assert numbers(cast.client_user, "kiwi") == set()
    assert numbers(cast.client_admin, "kiwi") == set()


def test_another_organisations_number_and_terms_find_nothing(cast, tickets):
    _, globex = tickets
    assert numbers(cast.client_user, globex.number) == set()
    assert numbers(cast.client_user, "dental") == set()
    assert numbers(cast.other_client_user, "dental") == {globex.number}


def test_a_ticket_number_and_a_requester_email_find_the_ticket(cast, tickets):
    acme, _ = tickets
    assert numbers(cast.partner, acme.number) == {acme.number}
    assert numbers(cast.partner, "bob@acme.example") == {acme.number}


def test_prefixes_match_and_every_word_must(cast, tickets):
    acme, globex = tickets
    assert numbers(cast.admin, "espres") == {acme.number}
    assert numbers(cast.admin, "printer offline") == {globex.number}


def test_matches_are_marked_in_an_escaped_snippet(cast):
    services.create_ticket(
        cast.client_user,
        cast.acme,
        subject="<b>Router</b> & switch",
        body_text="router <script>x</script> reboots",
        source="web",
    )
    (hit,) = search(cast.partner, "router")
    assert "<mark>Router</mark>" in hit.snippet
    assert "<script" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet or "script" not in hit.snippet


def test_query_syntax_is_taken_as_words(cast, tickets):
    for query in ['"', "printer AND", "NEAR(printer", "printer*", "-printer", "printer:*", "!"]:
        search(cast.admin, query)  # never raises
    acme, globex = tickets
    assert numbers(cast.admin, '"printer"*') == {acme.number, globex.number}
    assert numbers(cast.admin, "printer OR kiwi") == set()  # OR is a word, not an operator


def test_new_replies_are_found_after_they_are_added(cast, tickets):
    acme, _ = tickets
    assert numbers(cast.partner, "toner") == set()
    services.reply(cast.partner, acme, body_text="Replaced the toner cartridge", source="web")
    assert numbers(cast.partner, "toner") == {acme.number}
    assert numbers(cast.client_user, "toner") == {acme.number}


def test_on_postgresql_the_stored_vectors_follow_every_write_and_are_searched_by_index(cast):
    """Tickets written in bulk and changed with ``update`` are found at once, and the search
    reads the GIN index of the stored vectors before any VACUUM or ANALYZE has run."""
    from django.db import connection

    from thirdway.tickets.models import Ticket
    from thirdway.tickets.search import _matching

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's generated columns and GIN index; SQLite searches its FTS5 table")
    made = Ticket.objects.bulk_create(
        Ticket(
            client=cast.acme,
            requester=cast.acme_user_contact,
            subject=f"Backup job {index}",
            search_text=f"Backup job {index}\nThe nightly backup stopped.",
            note_text="Checked the logs." if index % 10 else "Tape drive zircon-7 replaced.",
        )
        for index in range(3000)
    )
    Ticket.objects.filter(pk=made[1].pk).update(search_text="Scanner <quartz> offline")

    assert numbers(cast.desk, "quartz") == {made[1].number}
    assert numbers(cast.partner, "quartz") == {made[1].number}
    assert numbers(cast.client_user, "quartz") == {made[1].number}
    assert numbers(cast.other_client_user, "quartz") == set()
    assert len(numbers(cast.desk, "zircon")) == 50
    assert numbers(cast.client_admin, "zircon") == set()  # an internal note
    for user, include_notes, index in (
        (cast.desk, True, "tickets_ticket_search_all_vector_gin"),
        (None, False, "tickets_ticket_search_vector_gin"),
    ):
        tickets = Ticket.objects.for_user(user) if user else Ticket.objects.all()
        plan = tickets.filter(_matching(["quartz"], include_notes)).order_by("-id")[:100].explain()
        assert f"Bitmap Index Scan on {index}" in plan, plan


def test_on_postgresql_rare_words_read_the_gin_index_and_common_ones_walk_newest_first(
    cast, monkeypatch
):
    """After ANALYZE, a word missing from the statistics (one ticket in thousands) is read
    from the GIN index (or a small branch's own index) and a word in every ticket is tested on
    the rows read (the id index walked newest first on a large table; here, small, a scan);
    either way a partner gets exactly the newest of the tickets they may see, their branches
    merged without repeats."""
    from django.db import connection

    from thirdway.tickets.models import Ticket
    from thirdway.tickets.search import search_queries

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statistics and plans; SQLite searches its FTS5 table")
    from thirdway.tickets import search as ticket_search

    monkeypatch.setattr(ticket_search, "LARGE_DESK", 0)  # as on a desk of millions
    made = Ticket.objects.bulk_create(
        Ticket(
            client=cast.acme if index % 2 else cast.globex,
            requester=cast.acme_user_contact if index % 2 else None,
            assignee=cast.partner_record if index % 3 == 0 else None,
            subject=f"Backup job {index}" + (" zircon" if index == 1201 else ""),
            search_text=f"Backup job {index}\nThe nightly backup stopped."
            + ("\nzircon" if index == 1201 else ""),
        )
        for index in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    queries, from_gin = search_queries(cast.desk, ["zircon"], True, 100)
    assert from_gin
    (plan,) = [q[:100].explain() for q in queries]
    assert "Bitmap Index Scan on tickets_ticket_search_all_vector_gin" in plan, plan
    for user in (cast.desk, cast.partner):
        # A rare word never walks the id index (a partner's branch may read its own index).
        plans = [q[:100].explain() for q in search_queries(user, ["zircon"], True, 100)[0]]
        assert not any("tickets_ticket_pkey" in plan for plan in plans), plans
        queries, from_gin = search_queries(user, ["backup"], True, 100)
        assert not from_gin
        plans = [q[:100].explain() for q in queries]
        assert not any("_gin" in plan for plan in plans), plans
    assert numbers(cast.partner, "zircon") == {made[1201].number}
    visible = Ticket.objects.for_user(cast.partner).filter(search_text__contains="backup")
    newest = [t.number for t in visible.order_by("-id")[:50]]
    assert [hit.ticket.number for hit in search(cast.partner, "backup")] == newest


def test_on_postgresql_few_matches_are_looked_for_among_the_newest_first(cast, monkeypatch):
    """A word with few matches is first looked for among the newest tickets; the answer is
    the same whether they hold enough of its matches or not."""
    from django.db import connection

    from thirdway.tickets import search as ticket_search
    from thirdway.tickets.models import Ticket

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL reads its GIN index; SQLite searches its FTS5 table")
    made = Ticket.objects.bulk_create(
        Ticket(
            client=cast.acme,
            requester=cast.acme_user_contact,
            subject=f"Job {index}",
            search_text=f"Job {index}"
            + ("\ngarnet" if index % 40 == 0 else "")
            + ("\nonyx" if index in (5, 1990) else ""),
        )
        for index in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    monkeypatch.setattr(ticket_search, "LARGE_DESK", 0)
    monkeypatch.setattr(ticket_search, "WINDOW_SHARE", 0.5)
    monkeypatch.setattr(ticket_search, "WINDOW_MIN", 1)
    assert ticket_search._newest_window(["garnet"], True) is not None
    garnet = [made[index].number for index in reversed(range(0, 2000, 40))]
    # 50 matches, 25 in the newest half: too few for a page of 10 (20 asked), the rest read too.
    for user in (cast.desk, cast.partner, cast.client_user):
        assert [hit.ticket.number for hit in search(user, "garnet", limit=10)] == garnet[:10]
        assert [hit.ticket.number for hit in search(user, "garnet", limit=20)] == garnet[:20]
        assert [hit.ticket.number for hit in search(user, "garnet", limit=50)] == garnet
        assert [hit.ticket.number for hit in search(user, "onyx")] == [
            made[1990].number,
            made[5].number,
        ]
