"""Rating a resolved ticket: the signed link (single-use, expiring, tamper-proof), the portal's
way to it, the API, and the follow-up ticket a low score opens for the lead partner (once)."""

from __future__ import annotations

import email
import email.policy
import re
import time

from django.core import signing

from thirdway.audit.models import AuditRecord, Source
from thirdway.insights import services as insights
from thirdway.insights.models import CsatResponse
from thirdway.tickets import services
from thirdway.tickets.models import Ticket

FOLLOW_UP = "Client satisfaction"


def resolved_ticket(cast, subject="Printer jams"):
    """A ticket Bob (Acme) asked for, handled by Paula, resolved."""
    ticket = services.create_ticket(
        cast.client_user, cast.acme, subject=subject, body_text="It jams.", source=Source.WEB
    )
    services.assign(cast.admin, ticket, cast.partner_record, source=Source.CLI)
    services.change_status(cast.admin, ticket, "resolved", source=Source.CLI)
    return Ticket.objects.get(pk=ticket.pk)


def test_a_client_rates_from_the_portal_and_a_low_score_opens_one_follow_up(cast, web_as, page):
    ticket = resolved_ticket(cast)
    bob = web_as(cast.client_user)
    portal = page(bob.get(f"/portal/tickets/{ticket.pk}/"))
    link = f"/insights/tickets/{ticket.pk}/rate/"
    assert f'href="{link}"' in portal
    form = page(bob.get(link))
    assert 'data-score="5"' in form and 'data-score="1"' in form

    done = page(bob.post(link, {"score": "1", "comment": "Still jams every morning."}))
    assert "Thank you" in done and "will contact you" in done
    rating = CsatResponse.objects.get(ticket=ticket)
    assert (rating.score, rating.comment) == (1, "Still jams every morning.")
    assert (rating.contact, rating.partner, rating.client) == (
        cast.acme_user_contact,
        cast.partner_record,
        cast.acme,
    )
    follow = rating.follow_up
    assert (follow.client, follow.assignee, follow.category) == (
        cast.acme,
        cast.partner_record,
        FOLLOW_UP,
    )
    assert ticket.number in follow.subject and "Still jams" in follow.articles.first().body_text
    assert AuditRecord.objects.filter(actor=cast.client_user, action="insights.rated").count() == 1

    again = bob.post(link, {"score": "5"})
    assert "Already rated" in page(again)
    assert CsatResponse.objects.get(ticket=ticket).score == 1
    assert Ticket.objects.filter(category=FOLLOW_UP).count() == 1
    # another client's contact cannot reach the ticket's rating at all
    assert web_as(cast.other_client_admin).get(link).status_code == 404


def test_the_signed_link_works_without_signing_in_once_and_not_when_forged_or_old(
    cast, client, monkeypatch
):
    ticket = resolved_ticket(cast)
    path = insights.rating_path(ticket)
    assert client.get(path).status_code == 200
    forged = path.replace(insights.rating_token(ticket)[:4], "AAAA")
    assert client.post(forged, {"score": "5"}).status_code == 400
    assert client.post(path, {"score": "9"}).status_code == 400  # not a rating
    assert not CsatResponse.objects.exists()
    assert "Thank you" in client.post(path, {"score": "5"}).content.decode()
    assert CsatResponse.objects.get(ticket=ticket).follow_up is None  # a good score: no ticket
    assert "Already rated" in client.post(path, {"score": "1"}).content.decode()

    older = resolved_ticket(cast, "Old one")
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 15 * 86400)
    stale = insights.rating_path(older)
    monkeypatch.setattr(signing.time, "time", real)
    answer = client.post(stale, {"score": "5"})
    assert answer.status_code == 400 and "expired" in answer.content.decode()
    assert not CsatResponse.objects.filter(ticket=older).exists()


def test_the_api_gives_the_link_and_takes_the_rating_refusing_bad_fields(cast, api_as):
    ticket = resolved_ticket(cast)
    bob = api_as(cast.client_user)
    link = bob.get(f"/api/v1/insights/tickets/{ticket.pk}/rating-link").json()
    assert link["rated"] is False and link["expires_in_days"] == insights.LINK_DAYS
    token = link["url"].rstrip("/").rsplit("/", 1)[1]
    url = "/api/v1/insights/ratings"
    for bad, field in (
        ({"token": token, "score": 6}, "score"),
        ({"token": token, "score": 3, "comment": "x" * 1001}, "comment"),
        ({"token": "nonsense", "score": 3}, "token"),
    ):
        refused = bob.post(url, bad, content_type="application/json")
        assert refused.status_code == 400, refused.content
        assert field in {e["field"] for e in refused.json()["errors"]}
    assert not CsatResponse.objects.exists()
    made = bob.post(url, {"token": token, "score": 2}, content_type="application/json")
    assert made.status_code == 201 and made.json()["follow_up_id"] is not None
    twice = bob.post(url, {"token": token, "score": 2}, content_type="application/json")
    assert twice.status_code == 400
    assert Ticket.objects.filter(category=FOLLOW_UP).count() == 1
    mine = bob.get("/api/v1/insights/ratings").json()
    assert [r["ticket_id"] for r in mine] == [ticket.pk]


# Who sees the ticket, and so its rating; every role in one test (the ticket is built once).
SEES = {
    "admin": True,
    "desk": True,
    "partner": True,
    "associate": True,
    "client_admin": True,
    "client_user": True,
    "other_partner": False,
    "other_client_admin": False,
    "other_client_user": False,
    "outsider": False,
}


def test_ratings_and_their_links_are_seen_only_by_those_who_see_the_ticket(cast, api_as):
    ticket = resolved_ticket(cast)
    insights.rate_ticket(None, insights.rating_token(ticket), score=4, source=Source.CLI)
    rating = CsatResponse.objects.get()
    for role in sorted(SEES):
        sees, viewer = SEES[role], api_as(getattr(cast, role))
        expected = 200 if sees else 404
        found = viewer.get(f"/api/v1/insights/ratings/{rating.pk}")
        assert found.status_code == expected, role
        listed = {r["id"] for r in viewer.get("/api/v1/insights/ratings").json()}
        assert listed == ({rating.pk} if sees else set()), role
        by_client = viewer.get("/api/v1/insights/ratings-by/client").json()
        assert [r["count"] for r in by_client] == ([1] if sees else []), role
        if role != "associate":  # an associate sees only tickets assigned to them
            link = viewer.get(f"/api/v1/insights/tickets/{ticket.pk}/rating-link")
            assert link.status_code == expected, role


def test_a_resolution_after_reopening_needs_a_fresh_link_when_the_ticket_is_open(cast, client):
    ticket = resolved_ticket(cast)
    path = insights.rating_path(ticket)
    services.change_status(cast.admin, ticket, "in_progress", source=Source.CLI)
    answer = client.post(path, {"score": "5"})
    assert answer.status_code == 400 and "not resolved" in answer.content.decode()


def test_the_resolution_email_carries_a_link_that_rates_the_ticket(cast, client, settings):
    from thirdway.mail.models import OutboundMessage

    settings.SITE_URL = "https://desk.example"
    ticket = resolved_ticket(cast)
    mail = OutboundMessage.objects.get(ticket=ticket, kind="resolved")
    message = email.message_from_bytes(bytes(mail.raw), policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https://desk\.example(/insights/rate/[^\s/]+/)", body)
    assert link, body
    assert "Thank you" in client.post(link.group(1), {"score": "3"}).content.decode()
    assert CsatResponse.objects.get(ticket=ticket).score == 3


def test_the_ratings_list_and_metrics_page_take_the_same_queries_for_one_or_three(
    cast, api_as, web_as
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api, web = api_as(cast.admin), web_as(cast.admin)
    metrics = f"/insights/metrics/?subject=client:{cast.acme.pk}"

    def counted() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as listed:
            assert api.get("/api/v1/insights/ratings").status_code == 200
        with CaptureQueriesContext(connection) as paged:
            assert web.get(metrics).status_code == 200
        return len(listed), len(paged)

    first = resolved_ticket(cast)
    insights.rate_ticket(None, insights.rating_token(first), score=5, source=Source.CLI)
    counted()  # the token's first use records itself once
    one = counted()
    for name in ("Second", "Third"):
        ticket = resolved_ticket(cast, name)
        insights.rate_ticket(None, insights.rating_token(ticket), score=4, source=Source.CLI)
    assert counted() == one
