"""The queues: exactly the tickets each role may see in each queue, filters, sorting, paging,
the htmx rows fragment and a number of queries that does not grow with the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.filters import ORDERINGS
from thirdway.tickets.models import Tag, Ticket
from thirdway.tickets.views import queues
from thirdway.web.paging import without_repeats

from .support import NETWORK, NOT_NETWORK, htmx, shown_numbers

ALL = {"t1", "t2", "t3", "t4", "t5", "t6"}
# role -> queue -> the tickets in it (None: the queue is not theirs, a 404).
QUEUES = {
    "admin": {
        "mine": set(),
        "unassigned": set(),
        "triage": {"t1", "t2"},
        "waiting": {"t4", "t6"},
        "all": ALL,
    },
    "desk": {
        "mine": set(),
        "unassigned": set(),
        "triage": {"t1", "t2"},
        "waiting": {"t4", "t6"},
        "all": ALL,
    },
    "partner": {
        "mine": {"t4"},
        "unassigned": {"t1"},
        "triage": None,
        "waiting": {"t4", "t6"},
        "all": {"t1", "t3", "t4", "t5", "t6"},
    },
    "other_partner": {
        "mine": set(),
        "unassigned": {"t2"},
        "triage": None,
        "waiting": {"t4"},
        "all": {"t2", "t4"},
    },
    "associate": {
        "mine": {"t3"},
        "unassigned": set(),
        "triage": None,
        "waiting": set(),
        "all": {"t3"},
    },
}
CASES = [(role, queue) for role, queues in QUEUES.items() for queue in queues]


@pytest.mark.parametrize(("role", "queue"), CASES)
def test_each_queue_shows_exactly_the_tickets_of_that_role(cast, desk, web_as, role, queue):
    expected = QUEUES[role][queue]
    response = web_as(getattr(cast, role)).get("/tickets/", {"queue": queue})
    if expected is None:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert set(shown_numbers(response.content.decode())) == desk.numbers(*expected)


@pytest.mark.parametrize("role", NETWORK)
def test_the_queue_page_offers_desk_triage_only_to_the_desk_and_admins(cast, desk, web_as, role):
    html = web_as(getattr(cast, role)).get("/tickets/").content.decode()
    assert ("?queue=triage" in html) == (role in {"admin", "desk"})


def test_the_default_queue_is_mine(cast, desk, web_as):
    html = web_as(cast.partner).get("/tickets/").content.decode()
    assert shown_numbers(html) == [desk.t4.number]


@pytest.mark.parametrize("role", NOT_NETWORK)
@pytest.mark.parametrize("queue", ["mine", "unassigned", "triage", "waiting", "all"])
def test_people_outside_the_network_get_404_on_every_queue(cast, desk, web_as, role, queue):
    response = web_as(getattr(cast, role)).get("/tickets/", {"queue": queue})
    assert response.status_code == 404
    assert desk.t1.number.encode() not in response.content


def test_an_unknown_queue_is_404(cast, desk, web_as):
    assert web_as(cast.admin).get("/tickets/", {"queue": "everything"}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, desk):
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- filters -------------------------------------------------------------------------------------


def _shown(browser, **params) -> set[str]:
    response = browser.get("/tickets/", {"queue": "all", **params})
    assert response.status_code == 200
    return set(shown_numbers(response.content.decode()))


def test_filters_narrow_the_queue_by_status_priority_client_and_practice(cast, desk, web_as):
    admin = web_as(cast.admin)
    services.change_priority(cast.admin, desk.t2, impact=1, urgency=1, source=Source.CLI)
    assert _shown(admin, status="new") == desk.numbers("t1", "t2")
    assert _shown(admin, status="open") == desk.numbers("t1", "t2", "t3", "t4", "t6")
    assert _shown(admin, priority="1") == desk.numbers("t2")
    assert _shown(admin, client=cast.globex.pk) == desk.numbers("t2", "t4")
    assert _shown(admin, practice=cast.security.pk) == desk.numbers("t1", "t4", "t5")
    assert _shown(admin, practice=cast.security.pk, status="new") == desk.numbers("t1")


def test_filters_by_assignee_me_nobody_or_a_partner(cast, desk, web_as):
    assert _shown(web_as(cast.partner), assignee="me") == desk.numbers("t4", "t5")
    assert _shown(web_as(cast.admin), assignee="none") == desk.numbers("t1", "t2", "t6")
    ada = cast.associate_record.pk
    assert _shown(web_as(cast.admin), assignee=str(ada)) == desk.numbers("t3")


def test_filters_by_tag_and_by_text_including_internal_notes(cast, desk, web_as):
    services.update_ticket(cast.admin, desk.t1, {"tags": ["VIP", "printer"]}, source=Source.CLI)
    services.note(cast.admin, desk.t6, body_text="Ask about the kangaroo", source=Source.CLI)
    admin = web_as(cast.admin)
    assert _shown(admin, tag="vip") == desk.numbers("t1")
    assert _shown(admin, q="wi-fi") == desk.numbers("t2")
    assert _shown(admin, q="kangaroo") == desk.numbers("t6")
    assert _shown(admin, q=desk.t3.number) == desk.numbers("t3")


def test_a_filter_on_a_client_out_of_scope_is_refused_and_shows_nothing_of_it(cast, desk, web_as):
    response = web_as(cast.associate).get("/tickets/", {"queue": "all", "client": cast.globex.pk})
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "Globex Dental" not in html
    assert set(shown_numbers(html)) == desk.numbers("t3")


def test_sorting_by_priority_created_and_last_update(cast, desk, web_as):
    services.change_priority(cast.admin, desk.t2, impact=1, urgency=1, source=Source.CLI)
    services.change_priority(cast.admin, desk.t6, impact=3, urgency=3, source=Source.CLI)
    services.reply(cast.admin, desk.t1, body_text="On my way", source=Source.CLI)
    admin = web_as(cast.admin)

    def order(sort):
        html = admin.get("/tickets/", {"queue": "all", "sort": sort}).content.decode()
        return shown_numbers(html)

    by_priority = order("priority")
    assert by_priority[0] == desk.t2.number
    assert by_priority[-1] == desk.t6.number
    assert order("created") == [desk.fresh(f"t{n}").number for n in (6, 5, 4, 3, 2, 1)]
    assert order("updated")[0] == desk.t1.number


def test_the_queue_is_paginated_keeping_its_filters(cast, desk, web_as, monkeypatch):
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    admin = web_as(cast.admin)
    seen = []
    for number in (1, 2, 3):
        html = admin.get("/tickets/", {"queue": "all", "page": number}).content.decode()
        rows = shown_numbers(html)
        assert len(rows) == 2
        seen += rows
    assert set(seen) == desk.numbers(*ALL)
    html = admin.get("/tickets/", {"queue": "all", "status": "open"}).content.decode()
    assert "?queue=all&amp;status=open&page=2" in html


def test_a_row_shows_the_ticket_in_the_readers_time_zone(cast, desk, web_as):
    due = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    Ticket.objects.filter(pk=desk.t4.pk).update(
        sla_due_at=due, requester=cast.globex_user_contact, updated_at=due
    )
    desk.t4.tags.add(Tag.objects.create(name="vpn"))
    cast.admin.time_zone = "Asia/Tokyo"
    cast.admin.save()
    html = web_as(cast.admin).get("/tickets/", {"queue": "all"}).content.decode()
    row = re.search(rf'<tr data-ticket="{desk.t4.number}".*?</tr>', html, re.S).group(0)
    href = f"/tickets/{desk.t4.number}/"
    assert f'data-href="{href}"' in row and f'<a href="{href}">{desk.t4.number}</a>' in row
    assert '<span class="badge tag">vpn</span>' in row
    client_cell = (
        f'<td class="client-cell" title="{cast.globex.name} · {cast.globex_user_contact.name}">'
        f'{cast.globex.name} <span class="muted small">{cast.globex_user_contact.name}</span></td>'
    )
    assert client_cell in row
    assert '<span class="badge status-waiting_client">' in row
    assert f"<td>{cast.partner_record.name}</td>" in row
    assert f"<td>{cast.security.name}</td>" in row
    assert f'<time datetime="{due.isoformat()}" class="breached">2026-03-02 08:30</time>' in row
    assert f'<time datetime="{due.isoformat()}">2026-03-02 08:30</time>' in row
    other = re.search(rf'<tr data-ticket="{desk.t6.number}".*?</tr>', html, re.S).group(0)
    assert other.count("<td>—</td>") == 3  # nobody assigned, no practice, no due date
    assert "muted small" not in other


# --- htmx --------------------------------------------------------------------------------------


def test_an_htmx_request_gets_only_the_rows_which_refresh_themselves(cast, desk, web_as):
    response = htmx(web_as(cast.admin), "get", "/tickets/", {"queue": "all", "status": "new"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="ticket-rows"')
    assert "<html" not in html
    assert "queue-filters" not in html
    assert 'hx-trigger="every 30s' in html
    assert "queue-refresh from:body" in html
    assert 'hx-get="/tickets/?queue=all&amp;status=new"' in html
    assert set(shown_numbers(html)) == desk.numbers("t1", "t2")


def test_the_full_page_filters_in_place_with_htmx(cast, desk, web_as):
    html = web_as(cast.admin).get("/tickets/").content.decode()
    assert 'id="queue-filters"' in html
    assert 'hx-target="#ticket-rows"' in html
    assert 'hx-trigger="change, submit"' in html


# --- the number of queries ---------------------------------------------------------------------


def _more_tickets(cast, count: int) -> None:
    for n in range(count):
        ticket = services.create_ticket(
            cast.admin,
            cast.acme if n % 2 else cast.globex,
            subject=f"Extra {n}",
            body_text="More work",
            requester_id=(cast.acme_user_contact if n % 2 else cast.globex_user_contact).pk,
            practice_id=(cast.security if n % 3 else cast.networking).pk,
            tags=[f"tag{n}", "extra"],
            source=Source.CLI,
        )
        partner = [cast.partner_record, cast.other_partner_record, cast.associate_record][n % 3]
        services.assign(cast.admin, ticket, partner, source=Source.CLI)


def _queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tickets/", {"queue": "all", **params})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", NETWORK)
def test_a_queue_page_takes_the_same_number_of_queries_however_long_it_is(cast, desk, web_as, role):
    client = web_as(getattr(cast, role))
    client.get("/tickets/")
    few = _queries(client)
    _more_tickets(cast, 24)
    many = _queries(client)
    by_priority = _queries(client, sort="priority", status="open")
    assert few == many == by_priority
    # A partner's scope costs three small look-ups (self, clients, practices), and the page one
    # ordered query per branch of it (assigned to them, their clients, unassigned in their
    # practices; one UNION of them on PostgreSQL) before the page's rows.
    # The sidebar adds one capped count per queue (four for a partner, six for the desk), and
    # the practices they count in.
    assert many <= 18 + len(queues.queues_for(getattr(cast, role)))
    shown = shown_numbers(client.get("/tickets/", {"queue": "all"}).content.decode())
    assert len(shown) > len(QUEUES[role]["all"])


def test_the_htmx_rows_take_a_fixed_number_of_queries_too(cast, desk, web_as):
    client = web_as(cast.partner)
    with CaptureQueriesContext(connection) as before:
        htmx(client, "get", "/tickets/", {"queue": "all"})
    _more_tickets(cast, 12)
    with CaptureQueriesContext(connection) as after:
        htmx(client, "get", "/tickets/", {"queue": "all"})
    assert len(before) == len(after)


def test_a_condition_of_both_the_access_branch_and_the_queue_is_asked_once(cast, desk, web_as):
    # Said twice, PostgreSQL would count its selectivity twice and misjudge the plan.
    with CaptureQueriesContext(connection) as queries:
        response = web_as(cast.partner).get("/tickets/", {"queue": "unassigned"})
    assert shown_numbers(response.content.decode()) == [desk.t1.number]
    branch_queries = [q["sql"] for q in queries.captured_queries if "IS NULL" in q["sql"]]
    assert branch_queries
    for sql in branch_queries:
        for part in sql.split("UNION"):
            assert part.count('"assignee_id" IS NULL') <= 1


def test_repeated_conditions_are_dropped_and_others_kept(cast, desk):
    twice = Ticket.objects.filter(assignee__isnull=True).filter(assignee__isnull=True, status="new")
    once = without_repeats(twice)
    assert str(once.query).count("IS NULL") == 1
    assert set(once) == set(twice) == {desk.t1, desk.t2}
    either = Ticket.objects.filter(Q(status="new") | Q(status="new"))
    assert without_repeats(either) is either


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_breaches_soonest_comes_first_and_tickets_without_a_due_date_last(cast, desk, web_as, role):
    # A partner's page merges the branches of their scope; the desk's is one ordered query.
    soon = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    for name, hours in (("t6", 1), ("t4", 2), ("t1", 3)):
        Ticket.objects.filter(pk=getattr(desk, name).pk).update(
            sla_due_at=soon + dt.timedelta(hours=hours)
        )
    Ticket.objects.exclude(pk__in=[desk.t6.pk, desk.t4.pk, desk.t1.pk]).update(sla_due_at=None)
    user = getattr(cast, role)
    response = web_as(user).get("/tickets/", {"queue": "all", "sort": "sla"})
    assert response.status_code == 200
    shown = shown_numbers(response.content.decode())
    assert shown[:3] == [desk.t6.number, desk.t4.number, desk.t1.number]
    without_due = Ticket.objects.for_user(user).filter(sla_due_at__isnull=True).order_by("id")
    assert shown[3:] == [ticket.number for ticket in without_due]


def test_deep_pages_of_a_partner_merge_their_branches_in_order(cast, desk, web_as, monkeypatch):
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    _more_tickets(cast, 6)
    client = web_as(cast.partner)
    for sort, ordering in (
        ("created", ["-created_at", "-id"]),
        ("priority", ORDERINGS["priority"]),
    ):
        expected = [t.number for t in Ticket.objects.for_user(cast.partner).order_by(*ordering)]
        seen = []
        for number in range(1, len(expected) // 2 + 2):
            html = client.get("/tickets/", {"queue": "all", "sort": sort, "page": number}).content
            seen += shown_numbers(html.decode())
            if len(seen) >= len(expected):
                break
        assert seen == expected
