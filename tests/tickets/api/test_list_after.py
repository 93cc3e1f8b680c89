"""The ticket list read on with ``after`` (keyset paging): the same tickets in the same order
as one long page, for every sort, ties and missing due times included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.filters import ORDERINGS
from thirdway.tickets.models import Ticket

from .conftest import get

SORTS = sorted(
    {"-updated_at", "updated_at", "-created_at", "created_at", "priority", "-priority", "number"}
    | {"sla_due_at"}
)


@pytest.fixture
def crowded(cast, desk):
    """Eleven tickets, several sharing an update time, a creation time or a due time, some
    with no due time at all."""
    for n in range(7):
        services.create_ticket(
            cast.admin,
            cast.acme if n % 2 else cast.globex,
            subject=f"Crowded {n}",
            body_text="Same moment as others.",
            priority=1 + n % 4,
            priority_reason="Set by hand.",
            source=Source.CLI,
        )
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    tickets = list(Ticket.objects.order_by("id"))
    for index, ticket in enumerate(tickets):
        due = None if index % 3 == 0 else moment + dt.timedelta(minutes=index % 2)
        Ticket.objects.filter(pk=ticket.pk).update(
            updated_at=moment + dt.timedelta(seconds=index % 3),
            created_at=moment - dt.timedelta(seconds=index % 2),
            sla_due_at=due,
        )
    return tickets


def walk(client, limit: int, **params) -> list[str]:
    """Every ticket number, page after page by ``after``."""
    seen: list[str] = []
    body = get(client, "/tickets", limit=limit, **params).json()
    for _ in range(50):
        seen += [item["number"] for item in body["items"]]
        if body["next_after"] is None:
            return seen
        body = get(client, "/tickets", limit=limit, after=body["next_after"], **params).json()
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", SORTS)
def test_reading_on_with_after_gives_the_one_long_page_in_order(cast, crowded, api_as, sort):
    client = api_as(cast.admin)
    whole = [
        item["number"] for item in get(client, "/tickets", limit=100, sort=sort).json()["items"]
    ]
    assert len(whole) == len(crowded)
    expected = [ticket.number for ticket in Ticket.objects.order_by(*ORDERINGS[sort])]
    assert whole == expected
    for limit in (1, 2, 3, 5):
        assert walk(client, limit, sort=sort) == whole, limit


def test_the_last_page_has_no_cursor_and_a_full_one_has(cast, crowded, api_as):
    client = api_as(cast.admin)
    total = len(crowded)
    assert get(client, "/tickets", limit=total).json()["next_after"] is not None
    last = get(client, "/tickets", limit=total + 1).json()
    assert (len(last["items"]), last["next_after"]) == (total, None)
    # A full last page leads to an empty one, which ends the walk.
    cursor = get(client, "/tickets", limit=total).json()["next_after"]
    empty = get(client, "/tickets", limit=total, after=cursor).json()
    assert (empty["items"], empty["next_after"], empty["count"]) == ([], None, total)


def test_after_keeps_the_filters_and_what_the_caller_may_see(cast, crowded, api_as):
    client = api_as(cast.client_admin)
    visible = {t.number for t in crowded if t.client_id == cast.acme.pk}
    assert set(walk(client, 2)) == visible
    admin = api_as(cast.admin)
    p1 = {t.number for t in Ticket.objects.filter(priority=1)}
    assert set(walk(admin, 1, priority=1)) == p1
    # A cursor made by someone who sees more still gives only what this caller sees.
    cursor = get(admin, "/tickets", limit=1, sort="number").json()["next_after"]
    rest = get(client, "/tickets", limit=100, sort="number", after=cursor).json()["items"]
    assert {item["number"] for item in rest} <= visible


def test_a_ticket_changed_between_pages_is_neither_repeated_nor_lost_to_the_others(
    cast, crowded, api_as
):
    client = api_as(cast.admin)
    first = get(client, "/tickets", limit=3).json()
    # The first ticket of the first page is worked on: it moves to the top, behind the reader.
    moved = Ticket.objects.get(pk=first["items"][0]["id"])
    services.note(cast.admin, moved, body_text="Worked on.", source=Source.CLI)
    body = get(client, "/tickets", limit=100, after=first["next_after"]).json()
    rest = [item["number"] for item in body["items"]]
    read = [item["number"] for item in first["items"]] + rest
    assert sorted(read) == sorted(t.number for t in crowded)
    assert len(read) == len(set(read))


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"after": "not-a-cursor"}, "after", "not a cursor of this list"),
        ({"after": "W1siLWlkIl0sMV0"}, "after", "another sort"),
        ({"after": "x" * 513}, "after", "at most 512"),
        ({"offset": 2, "after": "CURSOR"}, "offset", "offset or after"),
    ],
)
def test_a_bad_cursor_is_refused_naming_what_was_wrong(cast, crowded, api_as, params, field, words):
    client = api_as(cast.admin)
    cursor = get(client, "/tickets", limit=1).json()["next_after"]
    params = {name: cursor if value == "CURSOR" else value for name, value in params.items()}
    response = get(client, "/tickets", limit=1, **params)
    assert response.status_code == 400, response.content
    text = response.content.decode()
    assert field in text and words in text, text
    # A cursor of the default sort is refused under another sort.
    wrong = get(client, "/tickets", limit=1, sort="priority", after=cursor)
    assert wrong.status_code == 400 and "another sort" in wrong.content.decode()
