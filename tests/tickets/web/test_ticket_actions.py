"""Actions on a ticket: each writes through its service with a web audit record, answers htmx
with the fragments it changed (header in place, timeline and history out of band) and falls
back to a redirect with a message; refusals change nothing and say why."""

from __future__ import annotations

import pytest

from thirdway.audit.models import AuditRecord, Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, Ticket, TicketLink

from .support import NOT_NETWORK, element, htmx, web_records


def _flash(response) -> str:
    return " ".join(str(message) for message in response.wsgi_request._messages)


# --- assign ------------------------------------------------------------------------------------


def test_assign_to_me_answers_htmx_with_the_header_and_the_timeline_out_of_band(cast, desk, web_as):
    response = htmx(
        web_as(cast.partner), "post", f"/tickets/{desk.t1.number}/assign/", {"partner": "me"}
    )
    html = response.content.decode()
    ticket = desk.fresh("t1")
    assert response.status_code == 200
    assert ticket.assignee == cast.partner_record
    assert ticket.status == "assigned"
    assert web_records(cast.partner, "ticket.assign", ticket).count() == 1
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="ticket-head"')
    assert (
        '<section id="timeline" class="timeline" aria-labelledby="timeline-title" '
        'hx-swap-oob="true">' in html
    )
    assert '<div id="ticket-history" hx-swap-oob="true">' in html
    assert "Assigned to Paula Partner." in element(html, "ticket-head")
    assert "Assigned to Paula Partner." in element(html, "timeline")
    assert 'data-shortcut="assign-me"' not in html  # already theirs


def test_assign_without_htmx_redirects_back_with_a_message(cast, desk, web_as):
    response = web_as(cast.desk).post(
        f"/tickets/{desk.t2.number}/assign/", {"partner": cast.other_partner_record.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{desk.t2.number}/"
    assert desk.fresh("t2").assignee == cast.other_partner_record
    assert "Assigned to Oscar Other." in _flash(response)


def test_someone_without_a_partner_record_cannot_assign_to_themselves(cast, desk, web_as):
    admin = web_as(cast.admin)
    assert (
        'data-shortcut="assign-me"' not in admin.get(f"/tickets/{desk.t1.number}/").content.decode()
    )
    response = htmx(admin, "post", f"/tickets/{desk.t1.number}/assign/", {"partner": "me"})
    assert "You have no active partner record" in response.content.decode()
    assert desk.fresh("t1").assignee is None
    assert not web_records(cast.admin, "ticket.assign").exists()


def test_assigning_to_an_unknown_partner_is_refused(cast, desk, web_as):
    response = htmx(
        web_as(cast.admin), "post", f"/tickets/{desk.t1.number}/assign/", {"partner": "9999"}
    )
    assert "No active partner with id 9999." in response.content.decode()
    assert desk.fresh("t1").assignee is None


def test_an_associate_handing_a_ticket_back_is_sent_to_the_queue(cast, desk, web_as):
    response = htmx(
        web_as(cast.associate), "post", f"/tickets/{desk.t3.number}/assign/", {"partner": ""}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/tickets/"
    assert desk.fresh("t3").assignee is None


# --- status ------------------------------------------------------------------------------------


def test_an_allowed_status_change_is_recorded_and_shown(cast, desk, web_as):
    response = htmx(
        web_as(cast.partner),
        "post",
        f"/tickets/{desk.t1.number}/status/",
        {"status": "in_progress"},
    )
    html = response.content.decode()
    assert desk.fresh("t1").status == "in_progress"
    record = web_records(cast.partner, "ticket.status", desk.t1).get()
    assert record.changes == {"status": ["new", "in_progress"]}
    assert '<span class="badge status-in_progress" id="ticket-status">In progress</span>' in html
    assert "Status: New → In progress." in element(html, "timeline")


@pytest.mark.parametrize("wanted", ["waiting_client", "new", "bogus", "merged"])
def test_a_refused_status_change_lists_the_allowed_ones_and_changes_nothing(
    cast, desk, web_as, wanted
):
    events = desk.t5.articles.count()
    response = htmx(
        web_as(cast.partner), "post", f"/tickets/{desk.t5.number}/status/", {"status": wanted}
    )
    head = element(response.content.decode(), "ticket-head")
    assert response.status_code == 200
    assert f"{desk.t5.number} cannot go from Closed to" in head
    assert "Allowed: In progress." in head
    assert desk.fresh("t5").status == "closed"
    assert desk.t5.articles.count() == events
    assert not web_records(cast.partner, "ticket.status").exists()


def test_a_refused_status_change_without_htmx_says_so_after_the_redirect(cast, desk, web_as):
    response = web_as(cast.admin).post(f"/tickets/{desk.t5.number}/status/", {"status": "resolved"})
    assert response.status_code == 302
    assert "Allowed: In progress." in _flash(response)
    assert desk.fresh("t5").status == "closed"


def test_a_parent_with_open_children_needs_force_and_a_reason_to_resolve(cast, desk, web_as):
    services.link(cast.admin, desk.t1, desk.t6, "parent", source=Source.CLI)
    admin = web_as(cast.admin)
    response = htmx(
        admin,
        "post",
        f"/tickets/{desk.t1.number}/status/",
        {"status": "resolved", "reason": "Printer replaced"},
    )
    assert f"Child tickets are still open: {desk.t6.number}." in response.content.decode()
    assert desk.fresh("t1").status == "new"
    htmx(
        admin,
        "post",
        f"/tickets/{desk.t1.number}/status/",
        {"status": "resolved", "force": "on", "reason": "Parent done"},
    )
    assert desk.fresh("t1").status == "resolved"


# --- priority ----------------------------------------------------------------------------------


def test_overriding_the_priority_needs_a_reason(cast, desk, web_as):
    client = web_as(cast.partner)
    url = f"/tickets/{desk.t1.number}/priority/"
    response = htmx(client, "post", url, {"impact": 2, "urgency": 2, "priority": 1})
    assert "Say why the priority differs from the matrix." in response.content.decode()
    assert desk.fresh("t1").priority == 3
    assert not web_records(cast.partner, "ticket.priority").exists()
    response = htmx(
        client, "post", url, {"impact": 2, "urgency": 2, "priority": 1, "reason": "CEO"}
    )
    ticket = desk.fresh("t1")
    assert (ticket.priority, ticket.priority_reason) == (1, "CEO")
    assert web_records(cast.partner, "ticket.priority", ticket).count() == 1
    assert '<span class="badge prio p1" id="ticket-priority">P1</span>' in response.content.decode()


def test_impact_and_urgency_set_the_priority_from_the_matrix(cast, desk, web_as):
    htmx(
        web_as(cast.admin),
        "post",
        f"/tickets/{desk.t2.number}/priority/",
        {"impact": 1, "urgency": 2, "priority": ""},
    )
    ticket = desk.fresh("t2")
    assert (ticket.impact, ticket.urgency, ticket.priority, ticket.priority_reason) == (1, 2, 2, "")


# --- merge, split, link --------------------------------------------------------------------------


def test_merging_moves_the_conversation_and_leaves_a_pointer(cast, desk, web_as):
    response = htmx(
        web_as(cast.partner),
        "post",
        f"/tickets/{desk.t6.number}/merge/",
        {"target": desk.t1.number},
    )
    html = response.content.decode()
    merged = desk.fresh("t6")
    assert (merged.status, merged.merged_into_id) == ("merged", desk.t1.pk)
    assert web_records(cast.partner, "ticket.merge", merged).count() == 1
    assert f"Merged into {desk.t1.number}." in html
    assert f'Merged into <a href="/tickets/{desk.t1.number}/">' in html
    assert desk.t1.articles.filter(body_text="Body of Office move").exists()


def test_merging_into_a_ticket_one_cannot_see_or_of_another_client_is_refused(cast, desk, web_as):
    other = web_as(cast.other_partner)
    response = htmx(other, "post", f"/tickets/{desk.t2.number}/merge/", {"target": desk.t1.number})
    assert f"No ticket {desk.t1.number} that you can see." in response.content.decode()
    response = htmx(
        web_as(cast.admin), "post", f"/tickets/{desk.t1.number}/merge/", {"target": desk.t2.number}
    )
    assert "Tickets of different clients cannot be merged." in response.content.decode()
    response = htmx(
        web_as(cast.admin), "post", f"/tickets/{desk.t1.number}/merge/", {"target": "nonsense"}
    )
    assert "is not a ticket number" in response.content.decode()
    assert desk.fresh("t1").status == desk.fresh("t2").status == "new"
    assert not AuditRecord.objects.filter(action="ticket.merge").exists()


def test_splitting_the_ticked_articles_off_makes_a_new_ticket(cast, desk, web_as):
    second = services.reply(cast.admin, desk.t1, body_text="Also the scanner.", source=Source.CLI)
    response = htmx(
        web_as(cast.admin),
        "post",
        f"/tickets/{desk.t1.number}/split/",
        {"articles": [second.pk], "subject": "Scanner"},
    )
    new = Ticket.objects.get(subject="Scanner")
    assert Article.objects.get(pk=second.pk).ticket == new
    assert f"Split off into {new.number}." in response.content.decode()
    assert web_records(cast.admin, "ticket.split", desk.t1).count() == 1
    assert f'id="article-{second.pk}"' not in element(response.content.decode(), "timeline")


def test_splitting_needs_ticked_articles_of_this_ticket(cast, desk, web_as):
    foreign = desk.t2.articles.first()
    response = htmx(
        web_as(cast.admin), "post", f"/tickets/{desk.t1.number}/split/", {"articles": [foreign.pk]}
    )
    assert "Select a valid choice" in response.content.decode()
    response = htmx(web_as(cast.admin), "post", f"/tickets/{desk.t1.number}/split/", {})
    assert "Tick the articles to split off." in response.content.decode()
    assert Ticket.objects.count() == 6


def test_linking_tickets_is_recorded_and_shown_on_both(cast, desk, web_as):
    admin = web_as(cast.admin)
    response = htmx(
        admin,
        "post",
        f"/tickets/{desk.t1.number}/link/",
        {"target": desk.t6.number, "kind": "related"},
    )
    assert TicketLink.objects.filter(source=desk.t1, target=desk.t6, kind="related").exists()
    assert web_records(cast.admin, "ticket.link", desk.t1).count() == 1
    assert f'Related to <a href="/tickets/{desk.t6.number}/">' in element(
        response.content.decode(), "ticket-head"
    )
    other_side = element(admin.get(f"/tickets/{desk.t6.number}/").content.decode(), "ticket-head")
    assert f'<a href="/tickets/{desk.t1.number}/">' in other_side


def test_links_to_tickets_one_cannot_see_are_not_shown(cast, desk, web_as):
    services.link(cast.admin, desk.t4, desk.t2, "related", source=Source.CLI)
    head = element(
        web_as(cast.partner).get(f"/tickets/{desk.t4.number}/").content.decode(), "ticket-head"
    )
    assert desk.t2.number not in head
    assert "Wi-Fi drops" not in head


# --- everyone outside the network --------------------------------------------------------------


ACTIONS = [
    ("assign", {"partner": "me"}),
    ("status", {"status": "closed"}),
    ("priority", {"impact": 1, "urgency": 1}),
    ("merge", {"target": "TW-10001"}),
    ("split", {"articles": ["1"]}),
    ("link", {"target": "TW-10001", "kind": "related"}),
    ("reply", {"body": "Hello"}),
]


@pytest.mark.parametrize("role", NOT_NETWORK)
@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_every_action_is_404_outside_the_network_and_changes_nothing(
    cast, desk, web_as, role, action, data
):
    before = AuditRecord.objects.count(), Article.objects.count()
    response = web_as(getattr(cast, role)).post(f"/tickets/{desk.t6.number}/{action}/", data)
    assert response.status_code == 404
    assert (AuditRecord.objects.count(), Article.objects.count()) == before


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_every_action_on_a_ticket_out_of_scope_is_404(cast, desk, web_as, action, data):
    before = AuditRecord.objects.count(), Article.objects.count()
    response = web_as(cast.associate).post(f"/tickets/{desk.t1.number}/{action}/", data)
    assert response.status_code == 404
    assert (AuditRecord.objects.count(), Article.objects.count()) == before


@pytest.mark.parametrize(
    "action", ["assign", "status", "priority", "merge", "split", "link", "reply"]
)
def test_actions_take_only_post(cast, desk, web_as, action):
    assert web_as(cast.admin).get(f"/tickets/{desk.t1.number}/{action}/").status_code == 405
