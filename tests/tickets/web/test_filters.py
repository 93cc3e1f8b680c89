"""One filter of tickets for the desk's queue page and the API's list: a parameter means the same
on both, the page takes typed names where its lists are long, and text is the search engine's."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.tickets import forms, services
from thirdway.tickets.filters import ORDERINGS, SEARCH_LIMIT
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Ticket
from thirdway.tickets.search import search_queries

from .support import shown_numbers

API = "/api/v1/tickets"


def _page(browser, **params) -> list[str]:
    response = browser.get("/tickets/", {"queue": "all", **params})
    assert response.status_code == 200
    return shown_numbers(response.content.decode())


def _api(http, **params) -> list[str]:
    response = http.get(API, {"limit": 100, **params})
    assert response.status_code == 200, response.content
    return [item["number"] for item in response.json()["items"]]


def _tag_and_note(cast, desk) -> None:
    services.update_ticket(cast.admin, desk.t1, {"tags": ["VIP"]}, source=Source.CLI)
    services.note(cast.admin, desk.t6, body_text="Ask about the kangaroo", source=Source.CLI)
    services.change_priority(cast.admin, desk.t2, impact=1, urgency=1, source=Source.CLI)


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_the_page_and_the_api_mean_the_same_by_each_filter(cast, desk, web_as, api_as, role):
    _tag_and_note(cast, desk)
    user = getattr(cast, role)
    page, api = web_as(user), api_as(user)
    pairs = [
        ({"status": "new"}, {"status": ["new"]}),
        ({"status": "open"}, {"status": sorted(OPEN)}),
        ({"priority": "1"}, {"priority": [1]}),
        ({"client": cast.acme.pk}, {"client": cast.acme.pk}),
        ({"practice": cast.security.pk}, {"practice": cast.security.pk}),
        ({"assignee": str(cast.partner_record.pk)}, {"assignee": cast.partner_record.pk}),
        ({"tag": "vip"}, {"tag": "VIP"}),
        ({"q": "printer"}, {"q": "printer"}),
        ({"q": "kangaroo"}, {"q": "kangaroo"}),
        ({"q": desk.t3.number}, {"q": desk.t3.number}),
    ]
    for on_page, on_api in pairs:
        assert set(_page(page, **on_page)) == set(_api(api, **on_api)), on_page
    assert set(_page(page, q="printer")) == desk.numbers("t1")
    for page_name, api_name in (
        ("updated", "-updated_at"),
        ("created", "-created_at"),
        ("priority", "priority"),
        ("sla", "sla_due_at"),
    ):
        assert _page(page, sort=page_name) == _api(api, sort=api_name)


def test_every_sort_of_the_api_orders_as_its_mapping_says(cast, desk, api_as):
    _tag_and_note(cast, desk)
    client = api_as(cast.admin)
    for name in ("-updated_at", "updated_at", "-created_at", "created_at", "-priority", "number"):
        expected = Ticket.objects.order_by(*ORDERINGS[name])
        assert _api(client, sort=name) == [ticket.number for ticket in expected], name


def test_the_api_filters_by_several_values_unassigned_and_requester(cast, desk, api_as):
    Ticket.objects.filter(pk=desk.t4.pk).update(requester=cast.globex_user_contact)
    client = api_as(cast.admin)
    assert set(_api(client, status=["new", "closed"])) == desk.numbers("t1", "t2", "t5")
    assert set(_api(client, unassigned="true")) == desk.numbers("t1", "t2", "t6")
    assert set(_api(client, unassigned="false")) == desk.numbers("t3", "t4", "t5")
    assert _api(client, requester=cast.globex_user_contact.pk) == [desk.t4.number]
    # A blank tag filters nothing, as on the page.
    assert set(_api(client, tag=" ")) == desk.numbers("t1", "t2", "t3", "t4", "t5", "t6")


def test_on_long_lists_the_page_takes_typed_names_or_ids(cast, desk, web_as, monkeypatch):
    monkeypatch.setattr(forms, "LONG_LIST", 1)
    admin = web_as(cast.admin)
    html = admin.get("/tickets/", {"queue": "all"}).content.decode()
    assert '<select name="client"' not in html
    assert '<select name="assignee"' not in html
    assert set(_page(admin, client="globex")) == desk.numbers("t2", "t4")
    assert set(_page(admin, client=f" {cast.acme.pk} ")) == desk.numbers("t1", "t3", "t5", "t6")
    assert set(_page(admin, assignee="paula")) == desk.numbers("t4", "t5")
    assert set(_page(admin, assignee=str(cast.associate_record.pk))) == desk.numbers("t3")
    assert set(_page(admin, assignee="none")) == desk.numbers("t1", "t2", "t6")
    assert set(_page(web_as(cast.partner), assignee="me")) == desk.numbers("t4", "t5")


def test_the_pages_text_is_searched_once_for_all_branches_of_a_partners_scope(cast, desk, web_as):
    with CaptureQueriesContext(connection) as queries:
        shown = _page(web_as(cast.partner), q="print")
    assert set(shown) == desk.numbers("t1")
    searches = [
        query["sql"]
        for query in queries.captured_queries
        if "tickets_ticket_fts" in query["sql"] or "to_tsquery" in query["sql"]
    ]
    # One search: the queries of one call (on a small desk one query; on a large one perhaps
    # one per branch of the partner's scope), not one search per branch of the queue.
    one_search, _ = search_queries(cast.partner, ["print"], True, 2 * SEARCH_LIMIT)
    assert len(searches) == len(one_search) == 1
    # Words are found by their beginnings, as /tickets/search finds them, not inside a word.
    assert _page(web_as(cast.admin), q="rinter") == []


def test_a_refused_value_is_a_400_naming_it_on_the_api_and_ignored_on_the_page(
    cast, desk, web_as, api_as
):
    response = api_as(cast.admin).get(API, {"priority": "x"})
    assert response.status_code == 400
    assert [error["field"].split(".")[0] for error in response.json()["errors"]] == ["priority"]
    params = {"queue": "all", "priority": "x", "status": "new", "sort": "bogus"}
    html = web_as(cast.admin).get("/tickets/", params).content.decode()
    assert "Priority: Select a valid choice." in html
    assert "Sort: Select a valid choice." in html
    assert set(shown_numbers(html)) == desk.numbers("t1", "t2")


def test_the_api_takes_status_open_and_the_sla_windows_of_the_page(cast, desk, web_as, api_as):
    now = timezone.now()
    for name, due in (("t1", -1), ("t2", 2), ("t3", 9)):
        Ticket.objects.filter(pk=getattr(desk, name).pk).update(
            sla_due_at=now + dt.timedelta(hours=due)
        )
    page, api = web_as(cast.admin), api_as(cast.admin)

    assert set(_api(api, status="open")) == set(_page(page, status="open"))
    assert set(_api(api, status="open")) == {
        ticket.number for ticket in Ticket.objects.filter(status__in=OPEN)
    }
    assert set(_api(api, status=["open", "closed"])) == {
        ticket.number for ticket in Ticket.objects.filter(status__in=[*OPEN, "closed"])
    }
    assert set(_api(api, sla="breached")) == desk.numbers("t1") == set(_page(page, sla="breached"))
    assert set(_api(api, sla="soon")) == desk.numbers("t1", "t2") == set(_page(page, sla="soon"))
    refused = api.get(API, {"sla": "later"})
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["sla"]
    assert "breached" in refused.json()["errors"][0]["allowed"]


def test_the_openapi_document_lists_the_values_of_status_and_sla(db):
    document = HttpClient().get("/api/v1/openapi.json").json()
    parameters = {
        parameter["name"]: parameter for parameter in document["paths"][API]["get"]["parameters"]
    }

    assert "open" in json.dumps(parameters["status"]["schema"])
    assert '"breached"' in json.dumps(parameters["sla"]["schema"])
    assert '"soon"' in json.dumps(parameters["sla"]["schema"])
    assert "four hours" in parameters["sla"]["description"]
