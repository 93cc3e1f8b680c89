"""Bulk updates from the queue's checkboxes, and saved views, which belong to one person."""

from __future__ import annotations

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.tickets.models import SavedView

from .support import NOT_NETWORK, htmx, web_records

# --- bulk ----------------------------------------------------------------------------------------


def test_a_bulk_status_change_applies_to_each_ticked_ticket_through_the_service(cast, desk, web_as):
    response = web_as(cast.admin).post(
        "/tickets/bulk/",
        {
            "ticket": [desk.t1.pk, desk.t2.pk],
            "status": "in_progress",
            "next": "/tickets/?queue=all",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?queue=all"
    assert desk.fresh("t1").status == desk.fresh("t2").status == "in_progress"
    assert web_records(cast.admin, "ticket.status").count() == 2


def test_bulk_assignment_and_priority_with_htmx_answer_a_message_and_refresh_the_rows(
    cast, desk, web_as
):
    response = htmx(
        web_as(cast.desk),
        "post",
        "/tickets/bulk/",
        {
            "ticket": [desk.t1.pk, desk.t6.pk],
            "assignee": cast.partner_record.pk,
            "priority": 2,
            "reason": "Office closed",
        },
    )
    html = response.content.decode()
    assert response["HX-Trigger"] == "queue-refresh"
    assert "<html" not in html
    assert f"Updated 2: {desk.t1.number}, {desk.t6.number}." in html
    for name in ("t1", "t6"):
        ticket = desk.fresh(name)
        assert (ticket.assignee, ticket.priority) == (cast.partner_record, 2)
    assert web_records(cast.desk, "ticket.assign").count() == 2
    assert web_records(cast.desk, "ticket.priority").count() == 2


def test_bulk_refusals_are_listed_per_ticket_and_the_rest_still_applies(cast, desk, web_as):
    response = htmx(
        web_as(cast.admin),
        "post",
        "/tickets/bulk/",
        {"ticket": [desk.t1.pk, desk.t5.pk], "status": "waiting_client"},
    )
    html = response.content.decode()
    assert f"Updated 1: {desk.t1.number}." in html
    assert f"{desk.t5.number} refused:" in html
    assert desk.fresh("t1").status == "waiting_client"
    assert desk.fresh("t5").status == "closed"


def test_bulk_ignores_tickets_the_person_may_not_see(cast, desk, web_as):
    response = htmx(
        web_as(cast.other_partner),
        "post",
        "/tickets/bulk/",
        {"ticket": [desk.t1.pk, desk.t2.pk], "status": "in_progress"},
    )
    assert f"Updated 1: {desk.t2.number}." in response.content.decode()
    assert desk.fresh("t1").status == "new"
    assert desk.t1.number not in response.content.decode()


def test_bulk_needs_a_change_and_ticked_tickets(cast, desk, web_as):
    admin = web_as(cast.admin)
    response = htmx(admin, "post", "/tickets/bulk/", {"ticket": [desk.t1.pk]})
    assert "Choose a status, an assignee or a priority to apply." in response.content.decode()
    response = htmx(admin, "post", "/tickets/bulk/", {"status": "closed"})
    assert "This field is required." in response.content.decode()
    assert not AuditRecord.objects.filter(source="web").exists()


def test_bulk_never_redirects_elsewhere(cast, desk, web_as):
    response = web_as(cast.admin).post(
        "/tickets/bulk/",
        {"ticket": [desk.t1.pk], "status": "in_progress", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/tickets/"


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_bulk_is_404_outside_the_network(cast, desk, web_as, role):
    response = web_as(getattr(cast, role)).post(
        "/tickets/bulk/", {"ticket": [desk.t1.pk], "status": "closed"}
    )
    assert response.status_code == 404
    assert desk.fresh("t1").status == "new"


def test_the_queue_has_checkboxes_tied_to_the_bulk_form(cast, desk, web_as):
    html = web_as(cast.admin).get("/tickets/", {"queue": "all"}).content.decode()
    assert '<form id="bulk-form"' in html
    assert f'name="ticket" value="{desk.t1.pk}" form="bulk-form"' in html


# --- saved views -------------------------------------------------------------------------------


def test_saving_a_view_keeps_the_queue_filters_and_lists_it_in_the_sidebar(cast, desk, web_as):
    partner = web_as(cast.partner)
    response = partner.post(
        "/tickets/views/",
        {"name": "Security waiting", "query": "queue=waiting&practice=1&page=3&evil=<b>"},
    )
    view = SavedView.objects.get(user=cast.partner)
    assert (view.name, view.query) == ("Security waiting", "queue=waiting&practice=1")
    assert response["Location"] == "/tickets/?queue=waiting&practice=1"
    html = partner.get(response["Location"]).content.decode()
    assert (
        '<a href="/tickets/?queue=waiting&amp;practice=1" aria-current="page">Security waiting</a>'
        in html
    )
    assert web_records(cast.partner, "saved_view.create").count() == 1


def test_saving_with_htmx_takes_the_current_filters_and_answers_the_sidebar(cast, desk, web_as):
    response = htmx(
        web_as(cast.desk),
        "post",
        "/tickets/views/",
        {
            "name": "New Globex",
            "query": "queue=mine",
            "queue": "all",
            "status": "new",
            "client": "2",
        },
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="saved-views"')
    assert SavedView.objects.get(user=cast.desk).query == "queue=all&status=new&client=2"
    assert "New Globex" in html


def test_saving_again_under_the_same_name_replaces_the_view(cast, desk, web_as):
    admin = web_as(cast.admin)
    admin.post("/tickets/views/", {"name": "Mine", "query": "queue=mine"})
    admin.post("/tickets/views/", {"name": "Mine", "query": "queue=mine&sort=priority"})
    assert list(SavedView.objects.values_list("name", "query")) == [
        ("Mine", "queue=mine&sort=priority")
    ]


def test_a_view_without_a_name_is_not_saved(cast, desk, web_as):
    response = htmx(web_as(cast.admin), "post", "/tickets/views/", {"name": "", "query": "q=x"})
    assert "Give the view a name" in response.content.decode()
    assert not SavedView.objects.exists()


def test_filters_too_long_to_keep_are_refused_rather_than_cut(cast, desk, web_as):
    response = htmx(web_as(cast.admin), "post", "/tickets/views/", {"name": "Long", "q": "é" * 200})
    assert "too long to save" in response.content.decode()
    assert not SavedView.objects.exists()


def test_saved_views_are_seen_and_deleted_only_by_their_owner(cast, desk, web_as):
    view = SavedView.objects.create(user=cast.partner, name="Paula's P1", query="priority=1")
    other = web_as(cast.other_partner)
    assert "Paula&#x27;s P1" not in other.get("/tickets/").content.decode()
    assert other.post(f"/tickets/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    partner = web_as(cast.partner)
    assert "Paula&#x27;s P1" in partner.get("/tickets/").content.decode()
    response = htmx(partner, "post", f"/tickets/views/{view.pk}/delete/")
    assert response.content.decode().lstrip().startswith('<section id="saved-views"')
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert web_records(cast.partner, "saved_view.delete").count() == 1


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_saved_views_are_404_outside_the_network(cast, desk, web_as, role):
    view = SavedView.objects.create(user=getattr(cast, role), name="Mine", query="queue=mine")
    client = web_as(getattr(cast, role))
    assert client.post("/tickets/views/", {"name": "x", "query": ""}).status_code == 404
    assert client.post(f"/tickets/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(user=getattr(cast, role)).count() == 1
