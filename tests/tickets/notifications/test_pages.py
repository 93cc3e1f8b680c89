"""The bell, the list and the preferences page: the network's own, each person their own,
writes by POST with CSRF, a fixed number of queries; and the queue's "client replied" mark."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.pages import NETWORK, ROLES
from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Notification, NotificationKind, NotificationPreference, Ticket
from thirdway.tickets.notifications import services as notifications

pytestmark = pytest.mark.django_db
NOT_NETWORK = [role for role in ROLES if role not in NETWORK]


def open_ticket(cast, subject="Printer on fire", **extra) -> Ticket:
    return services.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="It burns.",
        requester_id=cast.acme_user_contact.pk,
        practice_id=cast.security.pk,
        source=Source.WEB,
        **extra,
    )


def many_for(user, ticket, count: int) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind=NotificationKind.MENTIONED,
            ticket=ticket,
            text=f"n{i}",
            created_at=now,
        )
        for i in range(count)
    )


def bell_count(client) -> str:
    html = client.get("/notifications/bell/").content.decode()
    found = re.search(r'data-unread="(\d+)"', html)
    assert found, html
    return found.group(1)


def test_the_bell_counts_my_unread_notifications(cast, web_as):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    client = web_as(cast.partner)
    assert bell_count(client) == "1"
    html = client.get("/notifications/bell/").content.decode()
    assert '<span class="bell-count">1</span>' in html
    notifications.mark_all_read(cast.partner)
    assert bell_count(client) == "0"
    assert "bell-count" not in client.get("/notifications/bell/").content.decode()
    many_for(cast.partner, ticket, 120)
    assert ">99+</span>" in client.get("/notifications/bell/").content.decode()


@pytest.mark.parametrize("role", sorted(NETWORK))
def test_the_header_of_every_staff_page_polls_the_bell_every_minute(cast, web_as, role):
    html = web_as(getattr(cast, role)).get("/tickets/").content.decode()
    slot = re.search(r'<span id="bell"[^>]*>', html).group(0)
    assert 'hx-get="/notifications/bell/"' in slot and 'hx-trigger="load, every 60s"' in slot


@pytest.mark.parametrize("role", NOT_NETWORK)
def test_people_outside_the_network_have_no_bell_and_no_notification_pages(cast, web_as, role):
    client = web_as(getattr(cast, role))
    assert 'id="bell"' not in client.get("/clients/").content.decode()
    for path in ("/notifications/", "/notifications/bell/", "/notifications/settings/"):
        assert client.get(path).status_code == 404
    assert client.post("/notifications/read/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/notifications/", "/notifications/bell/", "/notifications/settings/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_my_notifications_only_newest_first(cast, web_as):
    first = open_ticket(cast, "First", assignee_id=cast.partner_record.pk)
    second = open_ticket(cast, "Second", assignee_id=cast.partner_record.pk)
    open_ticket(cast, "Not mine", assignee_id=cast.associate_record.pk)
    html = web_as(cast.partner).get("/notifications/").content.decode()
    assert html.index(second.number) < html.index(first.number)
    assert "Not mine" not in html and "2 unread" in html
    assert f'href="/tickets/{first.number}/"' in html
    assert "Not mine" in web_as(cast.associate).get("/notifications/").content.decode()


def test_marking_one_read_by_post(cast, web_as):
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    notice = Notification.objects.get()
    client = web_as(cast.partner)
    assert client.get(f"/notifications/{notice.pk}/read/").status_code == 405
    response = client.post(f"/notifications/{notice.pk}/read/", {"next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_someone_else_s_notification_is_404_and_stays_unread(cast, web_as):
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    notice = Notification.objects.get()
    assert web_as(cast.desk).post(f"/notifications/{notice.pk}/read/").status_code == 404
    assert web_as(cast.desk).post("/notifications/read/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_next_address_elsewhere_is_ignored(cast, web_as):
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    response = web_as(cast.partner).post("/notifications/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"


def test_mark_all_read(cast, web_as):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    many_for(cast.partner, ticket, 3)
    client = web_as(cast.partner)
    response = client.post("/notifications/read/", follow=True)
    assert "4 notifications marked read." in response.content.decode()
    assert not Notification.objects.for_user(cast.partner).unread().exists()


def test_writes_need_the_csrf_token(cast):
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(cast.partner)
    assert client.post("/notifications/read/").status_code == 403
    assert client.post("/notifications/settings/", {"email": ""}).status_code == 403
    assert Notification.objects.get().read_at is None


def test_the_list_takes_the_same_number_of_queries_however_long_it_is(cast, web_as):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    client = web_as(cast.partner)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications/")
    for n in range(5):
        many_for(cast.partner, open_ticket(cast, f"More {n}"), 8)
    many_for(cast.partner, ticket, 40)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/notifications/").content.decode()
    assert len(few) == len(many)
    assert "Page 1 of 3" in html


def test_the_preferences_form_shows_the_defaults_and_saves(cast, web_as):
    client = web_as(cast.partner)
    html = client.get("/notifications/settings/").content.decode()
    boxes = dict(
        re.findall(r'<input type="checkbox" name="email_kinds" value="(\w+)"([^>]*)>', html)
    )
    assert len(boxes) == len(NotificationKind.values)
    assert "checked" in boxes["assigned"] and "checked" not in boxes["taken_back"]
    response = client.post(
        "/notifications/settings/",
        {"email_kinds": ["sla_breach", "mentioned"], "email": "pager@network.example"},
    )
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=cast.partner)
    assert saved.email_kinds == ["mentioned", "sla_breach"]
    assert saved.email == "pager@network.example"


def test_a_bad_address_is_shown_next_to_its_field_and_nothing_is_saved(cast, web_as):
    response = web_as(cast.partner).post(
        "/notifications/settings/", {"email_kinds": ["assigned"], "email": "pager at home"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'<div class="field invalid">(.*?)</div>', html, re.S).group(1)
    assert 'name="email"' in field
    assert "&#x27;pager at home&#x27; is not an e-mail address." in field
    assert not NotificationPreference.objects.exists()


def test_an_unknown_kind_is_refused_by_the_form(cast, web_as):
    response = web_as(cast.partner).post("/notifications/settings/", {"email_kinds": ["gossip"]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# --- the queue's mark ----------------------------------------------------------------------------


def rows_marked(client) -> set[str]:
    html = client.get("/tickets/", {"queue": "all"}).content.decode()
    marked = re.findall(r'<tr data-ticket="(TW-\d+)"((?:(?!</tr>).)*)</tr>', html, re.S)
    assert marked
    return {number for number, row in marked if "data-client-replied" in row}


def test_the_queue_marks_tickets_whose_last_public_message_is_the_client_s(cast, web_as):
    fresh = open_ticket(cast, "Only the opening message")
    answered = open_ticket(cast, "We answered last")
    waiting = open_ticket(cast, "The client wrote last")
    noted = open_ticket(cast, "A note after the client's reply")
    for ticket in (answered, waiting, noted):
        services.reply(cast.desk, ticket, body_text="Looking.", source=Source.WEB)
        services.reply(cast.client_user, ticket, body_text="Thanks!", source=Source.WEB)
    services.reply(cast.desk, answered, body_text="Fixed.", source=Source.WEB)
    services.note(cast.desk, noted, body_text="Internal only.", source=Source.WEB)
    marked = rows_marked(web_as(cast.desk))
    assert marked == {waiting.number, noted.number}
    assert fresh.number not in marked


def test_the_mark_costs_no_query_more_however_many_rows_have_it(cast, web_as):
    client = web_as(cast.desk)
    first = open_ticket(cast)
    client.get("/tickets/", {"queue": "all"})
    with CaptureQueriesContext(connection) as few:
        client.get("/tickets/", {"queue": "all"})
    for n in range(12):
        ticket = open_ticket(cast, f"More {n}")
        services.reply(cast.desk, ticket, body_text="Hi.", source=Source.WEB)
        services.reply(cast.client_user, ticket, body_text="Hello.", source=Source.WEB)
    services.reply(cast.client_user, first, body_text="Again.", source=Source.WEB)
    with CaptureQueriesContext(connection) as many:
        marked = rows_marked(client)
    assert len(marked) == 13
    assert len(few) == len(many)
