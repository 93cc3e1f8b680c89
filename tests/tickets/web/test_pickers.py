"""Type-ahead pickers: a short list of what matches, within what the person may see, in a fixed
number of queries; the partner picker tells load and shift and puts the dispatcher's choice
first; a row typed but not picked is found by id or exact name, or refused."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from thirdway.audit.models import Source
from thirdway.clients.models import Client, Contact
from thirdway.network import services as network
from thirdway.tickets import pickers, services
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.models import Ticket

from .support import element, htmx


def _rows(response) -> list[tuple[str, str]]:
    return re.findall(
        r'data-pick-value="([^"]+)" data-pick-label="([^"]+)"', response.content.decode()
    )


def _many_clients(count: int, prefix: str = "Bakery") -> None:
    Client.objects.bulk_create(
        Client(name=f"{prefix} {n:04d}", time_zone="Europe/Paris", country="FR")
        for n in range(count)
    )


def test_the_client_picker_lists_at_most_twenty_matches_and_says_there_are_more(cast, web_as):
    _many_clients(30)
    response = htmx(
        web_as(cast.admin),
        "get",
        "/tickets/pick/client/",
        {"field": "client", "client_search": "bakery 00"},
    )
    rows = _rows(response)
    assert len(rows) == pickers.LIMIT
    assert [label for _, label in rows] == [f"Bakery {n:04d}" for n in range(20)]
    assert "More match: type more of the name." in response.content.decode()
    exact = _rows(
        htmx(
            web_as(cast.admin),
            "get",
            "/tickets/pick/client/",
            {"field": "client", "client_search": str(cast.acme.pk)},
        )
    )
    assert (str(cast.acme.pk), "Acme Bakery") in exact


def test_a_picker_shows_only_what_the_person_may_see(cast, web_as):
    # Ada (associate) serves no client of her own; the admin sees both.
    admin = _rows(
        htmx(web_as(cast.admin), "get", "/tickets/pick/client/", {"field": "c", "c_search": "e"})
    )
    assert {label for _, label in admin} >= {"Acme Bakery", "Globex"} or len(admin) >= 2
    visible = set(Client.objects.for_user(cast.associate).values_list("name", flat=True))
    mine = _rows(
        htmx(web_as(cast.associate), "get", "/tickets/pick/client/", {"field": "c", "c_search": ""})
    )
    assert {label for _, label in mine} == visible
    # Contacts are of the client asked for, and of one the person sees.
    people = _rows(
        htmx(
            web_as(cast.admin),
            "get",
            "/tickets/pick/contact/",
            {"field": "requester", "client": cast.acme.pk, "requester_search": ""},
        )
    )
    assert {label for _, label in people} == set(
        Contact.objects.filter(client=cast.acme, is_active=True).values_list("name", flat=True)
    )


@pytest.mark.parametrize("role", ["client_admin", "client_user", "outsider"])
def test_outside_the_network_the_pickers_do_not_exist(cast, web_as, role):
    response = web_as(getattr(cast, role)).get("/tickets/pick/client/", {"field": "client"})
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(
    "params, problem",
    [
        ({}, "field: This field is required."),
        ({"field": "x", "client": "abc"}, "client: Enter a whole number."),
    ],
)
def test_bad_picker_parameters_are_a_400_naming_them(cast, web_as, params, problem):
    response = web_as(cast.admin).get("/tickets/pick/contact/", params)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert web_as(cast.admin).get("/tickets/pick/nothing/", {"field": "x"}).status_code == 404


def test_the_partner_picker_shows_load_and_shift_and_the_dispatchers_first_choice_first(
    cast, web_as
):
    ticket = services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Firewall",
        body_text="Blocked",
        practice_id=cast.security.pk,
        source=Source.CLI,
    )
    for _ in range(2):
        services.create_ticket(
            cast.admin,
            cast.acme,
            subject="Load",
            body_text="x",
            assignee_id=cast.other_partner_record.pk,
            source=Source.CLI,
        )
    record = dispatching.suggest(cast.admin, ticket)
    first = record.candidates[0]["partner_id"] if record.candidates else None
    response = htmx(
        web_as(cast.admin),
        "get",
        "/tickets/pick/partner/",
        {"field": "partner", "ticket": ticket.number, "none": "on"},
    )
    html = response.content.decode()
    rows = _rows(response)
    assert rows[0] == ("none", "Nobody")
    if first is not None:
        assert rows[1][0] == str(first) and "first choice" in html
    oscar = re.search(r'data-pick-label="Oscar Other">(.*?)</button>', html, re.S).group(1)
    open_now = (
        Ticket.objects.filter(assignee=cast.other_partner_record)
        .exclude(status__in=["resolved", "closed", "merged"])
        .count()
    )
    assert f"{open_now}/{cast.other_partner_record.capacity} open" in oscar
    assert ("working now" in oscar) or ("not working now" in oscar)


def test_the_pickers_take_a_fixed_number_of_queries(cast, web_as):
    client = web_as(cast.admin)
    client.get("/tickets/")
    ticket = services.create_ticket(
        cast.admin, cast.acme, subject="Firewall", body_text="x", source=Source.CLI
    )
    dispatching.suggest(cast.admin, ticket)

    def count(kind, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = htmx(
                client, "get", f"/tickets/pick/{kind}/", {"field": "f", "f_search": "", **params}
            )
        assert response.status_code == 200
        return len(queries)

    before = [
        count("client"),
        count("partner", ticket=ticket.number),
        count("contact", client=cast.acme.pk),
    ]
    _many_clients(60)
    for n in range(30):
        network.create_partner(
            cast.admin,
            name=f"Partner {n:02d}",
            email=f"p{n}@network.example",
            kind="partner",
            latitude=48.85,
            longitude=2.35,
            time_zone="Europe/Paris",
            source=Source.CLI,
        )
    after = [
        count("client"),
        count("partner", ticket=ticket.number),
        count("contact", client=cast.acme.pk),
    ]
    assert before == after


def test_a_partner_typed_by_name_without_picking_is_assigned(cast, desk, web_as):
    response = htmx(
        web_as(cast.admin),
        "post",
        f"/tickets/{desk.t1.number}/assign/",
        {"partner": "", "partner_search": "oscar other"},
    )
    assert response.status_code == 200
    assert desk.fresh("t1").assignee == cast.other_partner_record
    refused = htmx(
        web_as(cast.admin),
        "post",
        f"/tickets/{desk.t1.number}/assign/",
        {"partner": "", "partner_search": "Oscar"},
    )
    assert "No active partner named “Oscar”: pick one from the list." in refused.content.decode()
    assert desk.fresh("t1").assignee == cast.other_partner_record


def test_a_requester_typed_but_not_picked_is_refused_rather_than_cleared(
    cast, desk, web_as, monkeypatch
):
    monkeypatch.setattr("thirdway.tickets.field_forms.PICKER_THRESHOLD", 1)
    services.update_ticket(
        cast.admin, desk.t1, {"requester": cast.acme_user_contact.pk}, source=Source.CLI
    )
    client = web_as(cast.admin)
    form = htmx(client, "get", f"/tickets/{desk.t1.number}/edit/requester/").content.decode()
    assert 'name="requester_search"' in element(form, "field-edit")
    response = htmx(
        client,
        "post",
        f"/tickets/{desk.t1.number}/edit/requester/",
        {"requester": "", "requester_search": "Bob"},
    )
    assert "Nothing picked for “Bob”: choose a row of the list." in response.content.decode()
    assert desk.fresh("t1").requester == cast.acme_user_contact


@pytest.mark.browser
def test_a_technician_picks_a_partner_and_a_client_by_typing(
    cast, desk, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, settled, sign_in

    _many_clients(80)
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", f"/tickets/{desk.t1.number}/")
    settled(page)
    search = page.locator("#assign-partner")
    search.fill("osc")
    option = page.locator("#assign-partner-results [data-pick-value]").filter(
        has_text="Oscar Other"
    )
    expect(option).to_be_visible()
    expect(option).to_contain_text("open ·")
    page.screenshot(path=str(tmp_path / "assign-picker-1366.png"))
    option.click()
    expect(search).to_have_value("Oscar Other")
    page.locator("#ticket-actions form.action").filter(has=search).get_by_role(
        "button", name="Assign"
    ).click()
    expect(page.locator("#ticket-assignee")).to_have_text("Oscar Other")
    assert Ticket.objects.get(pk=desk.t1.pk).assignee == cast.other_partner_record

    # A new ticket: the client is typed and picked; its people are then offered.
    page.goto(f"{live_server.url}/tickets/new/")
    page.locator("#id_client").fill("acme")
    page.locator("#id_client-results [data-pick-value]").filter(has_text="Acme Bakery").click()
    expect(page.locator("#client-fields select[name=requester]")).to_contain_text("Bob Acme")
    page.locator("#client-fields select[name=requester]").select_option(
        str(cast.acme_user_contact.pk)
    )
    page.locator("input[name=subject]").fill("Picked client")
    page.locator("textarea[name=body]").fill("Opened with the picker.")
    page.get_by_role("button", name="Open the ticket").click()
    expect(page.locator("h1")).to_contain_text("Picked client")
    opened = Ticket.objects.get(subject="Picked client")
    assert opened.client == cast.acme and opened.requester == cast.acme_user_contact
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/tickets/new/")
    page.locator("#id_client").fill("bakery 00")
    expect(page.locator("#id_client-results [data-pick-value]").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "client-picker-390.png"), full_page=True)
    assert fits(page)


def test_the_queue_bar_picks_a_client_and_a_tag_by_typing(cast, desk, web_as):
    from .support import shown_numbers

    _many_clients(60)
    client = web_as(cast.admin)
    bar = element(client.get("/tickets/", {"queue": "all"}).content.decode(), "queue-filters")
    assert 'name="client_search"' in bar and 'name="tag_search"' in bar
    assert '<select name="client"' not in bar
    picked = client.get("/tickets/", {"queue": "all", "client": cast.globex.pk})
    html = picked.content.decode()
    assert set(shown_numbers(html)) == {desk.t2.number, desk.t4.number}
    bar = element(html, "queue-filters")
    assert f'name="client_search" value="{cast.globex.name}"' in bar
