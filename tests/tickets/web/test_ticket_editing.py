"""The ticket page as a technician uses it: status moves that cannot close a ticket by accident,
every descriptive field edited in place through the services, a reply that sets the next status,
and time logged with its kind of work and whether it is billable."""

from __future__ import annotations

import re

import pytest

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, Tag

from .support import element, htmx, web_records


def _head(client, ticket) -> str:
    return element(client.get(f"/tickets/{ticket.number}/").content.decode(), "ticket-head")


def _flash(response) -> str:
    return " ".join(str(message) for message in response.wsgi_request._messages)


# --- status ------------------------------------------------------------------------------------


def test_one_click_on_the_status_controls_never_closes_a_live_ticket(cast, desk, web_as):
    """The old control preselected "Closed" for an assigned ticket; a bare POST of what the
    page offers first must not end the work, and closing needs a resolution note."""
    client = web_as(cast.partner)
    services.assign(cast.admin, desk.t1, cast.partner_record, source=Source.CLI)
    head = _head(client, desk.fresh("t1"))
    first_move = re.search(r'data-move="([a-z_]+)"', head).group(1)
    assert first_move not in ("resolved", "closed")
    # Resolve and close sit apart, behind a required resolution note.
    finish = element(head, "finish-box")
    assert 'name="reason" id="resolution-note" rows="3" maxlength="1000" required' in finish
    response = htmx(client, "post", f"/tickets/{desk.t1.number}/status/", {"status": "closed"})
    assert f"a resolution note is needed to close {desk.t1.number}" in response.content.decode()
    assert desk.fresh("t1").status == "assigned"
    assert not web_records(cast.partner, "ticket.status", desk.t1).exists()


def test_resolving_with_a_note_writes_it_on_the_timeline(cast, desk, web_as):
    client = web_as(cast.partner)
    response = htmx(
        client,
        "post",
        f"/tickets/{desk.t1.number}/status/",
        {"status": "resolved", "reason": "Drum replaced, test page printed."},
    )
    assert response.status_code == 200
    assert desk.fresh("t1").status == "resolved"
    event = Article.objects.filter(ticket=desk.t1, event="status").latest("id")
    assert event.body_text == "Status: New → Resolved. Drum replaced, test page printed."


def test_a_move_that_is_not_allowed_is_refused_before_asking_for_a_note(cast, desk, web_as):
    # t5 is closed: "resolved" is not a move from there, whatever the note.
    response = htmx(
        web_as(cast.admin), "post", f"/tickets/{desk.t5.number}/status/", {"status": "resolved"}
    )
    assert "cannot go from Closed to Resolved. Allowed: In progress." in response.content.decode()


def test_the_status_moves_are_buttons_for_the_current_status(cast, desk, web_as):
    head = _head(web_as(cast.admin), desk.t3)  # in progress
    moves = element(head, "status-moves")
    assert "In progress → " in moves
    assert re.findall(r'data-move="([a-z_]+)"', moves) == [
        "assigned",
        "waiting_client",
        "waiting_third_party",
        "scheduled",
    ]
    assert re.findall(r'data-move="([a-z_]+)"', element(head, "finish-box")) == [
        "resolved",
        "closed",
    ]


# --- fields in place ---------------------------------------------------------------------------


def test_every_descriptive_field_has_an_edit_link(cast, desk, web_as):
    head = _head(web_as(cast.partner), desk.t1)
    edits = re.findall(r'data-edit="([a-z]+)"', head)
    assert edits == [
        "subject",
        "requester",
        "practice",
        "type",
        "category",
        "site",
        "asset",
        "tags",
        "watchers",
    ]


def test_the_edit_form_opens_in_place_with_htmx_and_without(cast, desk, web_as):
    client = web_as(cast.partner)
    fragment = htmx(client, "get", f"/tickets/{desk.t1.number}/edit/practice/")
    assert fragment.status_code == 200
    form = element(fragment.content.decode(), "field-edit")
    assert f'<option value="{cast.security.pk}" selected>' in form
    assert "<html" not in fragment.content.decode()
    page = client.get(f"/tickets/{desk.t1.number}/?edit=practice")
    assert 'id="field-edit"' in page.content.decode()
    assert "<html" in page.content.decode()


@pytest.mark.parametrize(
    "name, value, check",
    [
        ("subject", "Printer jammed on floor 2", lambda t, c: t.subject),
        ("category", "Printing", lambda t, c: t.category),
        ("type", "service_request", lambda t, c: t.type),
    ],
)
def test_a_text_or_choice_field_is_saved_audited_and_shown(cast, desk, web_as, name, value, check):
    client = web_as(cast.partner)
    response = htmx(client, "post", f"/tickets/{desk.t1.number}/edit/{name}/", {name: value})
    assert response.status_code == 200
    ticket = desk.fresh("t1")
    assert check(ticket, cast) == value
    record = web_records(cast.partner, "ticket.update", desk.t1).get()
    assert list(record.changes) == [name]
    assert 'id="field-edit"' not in response.content.decode()


def test_practice_requester_site_and_asset_take_the_clients_own(cast, desk, web_as):
    client = web_as(cast.admin)
    url = f"/tickets/{desk.t1.number}/edit"
    htmx(client, "post", f"{url}/practice/", {"practice": cast.networking.pk})
    htmx(client, "post", f"{url}/requester/", {"requester": cast.acme_user_contact.pk})
    htmx(client, "post", f"{url}/site/", {"site": cast.acme_site.pk})
    htmx(client, "post", f"{url}/asset/", {"asset": cast.acme_server.pk})
    ticket = desk.fresh("t1")
    assert ticket.practice == cast.networking
    assert ticket.requester == cast.acme_user_contact
    assert ticket.site == cast.acme_site
    assert ticket.asset == cast.acme_server
    # Another client's site, asset or contact is not a choice, and nothing changes.
    for name, other in (
        ("site", cast.globex_site),
        ("asset", cast.globex_laptop),
        ("requester", cast.globex_user_contact),
    ):
        response = htmx(client, "post", f"{url}/{name}/", {name: other.pk})
        form = element(response.content.decode(), "field-edit")
        assert "Select a valid choice" in form
    assert desk.fresh("t1").site == cast.acme_site
    # Emptied: the practice goes back to none.
    htmx(client, "post", f"{url}/practice/", {"practice": ""})
    assert desk.fresh("t1").practice is None


def test_an_invalid_value_is_shown_next_to_the_field_and_changes_nothing(cast, desk, web_as):
    client = web_as(cast.partner)
    response = client.post(f"/tickets/{desk.t1.number}/edit/subject/", {"subject": ""})
    assert response.status_code == 400
    form = element(response.content.decode(), "field-edit")
    assert '<p class="error" role="alert">A ticket needs a subject.</p>' in form
    too_long = htmx(
        client, "post", f"/tickets/{desk.t1.number}/edit/subject/", {"subject": "x" * 251}
    )
    assert "at most 250 characters" in too_long.content.decode()
    assert desk.fresh("t1").subject == "Printer jammed"
    assert not web_records(cast.partner, "ticket.update").exists()


def test_tags_are_edited_as_a_list_and_bounded(cast, desk, web_as):
    client = web_as(cast.partner)
    url = f"/tickets/{desk.t1.number}/edit/tags/"
    htmx(client, "post", url, {"tags": "Printer, floor-2 ,printer"})
    assert sorted(desk.fresh("t1").tags.values_list("name", flat=True)) == ["floor-2", "printer"]
    many = ", ".join(f"t{n}" for n in range(21))
    response = htmx(client, "post", url, {"tags": many})
    assert "A ticket carries at most 20 tags." in response.content.decode()
    assert desk.fresh("t1").tags.count() == 2
    assert not Tag.objects.filter(name="t20").exists()


def test_watchers_are_network_staff_or_the_clients_own_people(cast, desk, web_as):
    client = web_as(cast.admin)
    url = f"/tickets/{desk.t1.number}/edit/watchers/"
    htmx(client, "post", url, {"watchers": [cast.other_partner.pk, cast.client_user.pk]})
    assert set(desk.fresh("t1").watchers.all()) == {cast.other_partner, cast.client_user}
    response = htmx(client, "post", url, {"watchers": [cast.other_client_user.pk]})
    assert "Select a valid choice" in response.content.decode()
    assert set(desk.fresh("t1").watchers.all()) == {cast.other_partner, cast.client_user}
    record = web_records(cast.admin, "ticket.watchers", desk.t1).get()
    assert record.changes["watchers"][1] == sorted([cast.other_partner.pk, cast.client_user.pk])


def test_the_watcher_service_refuses_someone_of_another_client(cast, desk):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.set_watchers(cast.admin, desk.t1, [cast.other_client_user], source=Source.CLI)
    assert f"Cannot watch {desk.t1.number}" in str(refused.value)
    assert not desk.fresh("t1").watchers.filter(pk=cast.other_client_user.pk).exists()


def test_unknown_fields_are_404_and_clients_cannot_edit(cast, desk, web_as):
    assert web_as(cast.admin).get(f"/tickets/{desk.t1.number}/edit/status/").status_code == 404
    for role in ("client_admin", "client_user", "outsider"):
        client = web_as(getattr(cast, role))
        url = f"/tickets/{desk.t1.number}/edit/subject/"
        assert client.post(url, {"subject": "Mine now"}).status_code in (403, 404)
    assert desk.fresh("t1").subject == "Printer jammed"


def test_a_merged_ticket_offers_no_edits(cast, desk, web_as):
    services.merge(cast.admin, desk.t6, desk.t1, source=Source.CLI)
    head = _head(web_as(cast.admin), desk.fresh("t6"))
    assert "data-edit=" not in head


# --- reply and set status, time ----------------------------------------------------------------


def test_a_reply_can_set_the_next_status(cast, desk, web_as):
    client = web_as(cast.partner)
    response = client.post(
        f"/tickets/{desk.t1.number}/reply/",
        {"body": "Could you send a photo of the display?", "then_status": "waiting_client"},
    )
    assert response.status_code == 302
    assert desk.fresh("t1").status == "waiting_client"
    assert "Reply sent." in _flash(response) and "Status: Waiting on client." in _flash(response)


def test_a_refused_status_after_a_reply_keeps_the_reply_and_says_why(cast, desk, web_as):
    services.link(cast.admin, desk.t1, desk.t6, "parent", source=Source.CLI)
    response = web_as(cast.partner).post(
        f"/tickets/{desk.t1.number}/reply/", {"body": "All done.", "then_status": "resolved"}
    )
    assert response.status_code == 302
    assert Article.objects.filter(ticket=desk.t1, body_text="All done.").exists()
    assert desk.fresh("t1").status == "new"
    assert f"Child tickets are still open: {desk.t6.number}." in _flash(response)


def test_a_reply_offers_only_allowed_next_statuses(cast, desk, web_as):
    html = web_as(cast.admin).get(f"/tickets/{desk.t5.number}/").content.decode()
    select = re.search(r'<select name="then_status"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert re.findall(r'<option value="([a-z_]*)"', select.group(1)) == ["", "in_progress"]
    response = web_as(cast.admin).post(
        f"/tickets/{desk.t5.number}/reply/", {"body": "x", "then_status": "resolved"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Article.objects.filter(ticket=desk.t5, body_text="x").exists()


def test_time_on_a_reply_keeps_its_work_type_and_billable_and_the_total_shows(cast, desk, web_as):
    client = web_as(cast.partner)
    url = f"/tickets/{desk.t1.number}/reply/"
    client.post(url, {"body": "Drove over.", "time_spent_minutes": "40", "work_type": "travel"})
    client.post(
        url,
        {
            "body": "Swapped the drum.",
            "internal": "on",
            "time_spent_minutes": "55",
            "work_type": "onsite",
            "billable": "on",
        },
    )
    travel = Article.objects.get(ticket=desk.t1, body_text="Drove over.")
    onsite = Article.objects.get(ticket=desk.t1, body_text="Swapped the drum.")
    assert (travel.work_type, travel.billable, travel.time_spent_minutes) == ("travel", False, 40)
    assert (onsite.work_type, onsite.billable, onsite.kind) == ("onsite", True, "note")
    time = element(_head(client, desk.t1), "fact-time")
    assert "1 h 35 min" in time and "55 min billable" in time
    bad = client.post(url, {"body": "x", "time_spent_minutes": "20", "work_type": "golf"})
    assert bad.status_code == 400
    assert "Select a valid choice. golf is not one of the available choices." in (
        bad.content.decode()
    )
