"""The net promoter question: asked once a quarter per contact from the practice's day, by a
signed link that answers only on a click (once), on the portal while due; the score per
practice and client, seen only by those who see the client."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import time

import pytest
from django.core import signing

from thirdway.audit.models import Source
from thirdway.clients.models import Contact
from thirdway.insights import nps
from thirdway.insights.models import NpsSurvey
from thirdway.mail.models import OutboundMessage
from thirdway.tickets.models import Ticket

OCT_14, OCT_15 = dt.date(2026, 10, 14), dt.date(2026, 10, 15)


def turn_on(cast, *, day=15, follow_up=False):
    return nps.set_policy(
        cast.admin,
        enabled=True,
        day_of_quarter=day,
        follow_up_detractors=follow_up,
        source=Source.CLI,
    )


def nps_mails() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(dedupe_key__startswith="nps:"))


def asked(contact, quarter=dt.date(2026, 10, 1), practice=None) -> str:
    survey = NpsSurvey.objects.create(
        contact=contact, client_id=contact.client_id, quarter_start=quarter, practice=practice
    )
    return nps.survey_token(survey)


def test_the_question_goes_once_a_quarter_to_each_active_contact_from_the_day_set(cast):
    contacts = Contact.objects.filter(is_active=True).exclude(email="").count()
    assert contacts >= 4
    assert nps.send_due_surveys(OCT_15) == 0  # off by default
    turn_on(cast)
    assert nps.send_due_surveys(OCT_14) == 0
    assert nps.send_due_surveys(OCT_15) == contacts
    assert nps.send_due_surveys(OCT_15) == 0
    assert nps.send_due_surveys(dt.date(2026, 12, 31)) == 0
    mails = nps_mails()
    assert len(mails) == contacts
    assert {m.to_address for m in mails} == {cast.acme_user_contact.email} | {
        c.email for c in Contact.objects.exclude(pk=cast.acme_user_contact.pk)
    }
    raw = bytes(OutboundMessage.objects.get(to_address=cast.acme_user_contact.email).raw)
    text = email.message_from_bytes(raw, policy=email.policy.default).get_body().get_content()
    link = re.search(r"/insights/nps/(\S+)/", text)
    assert link and nps.survey_of_token(link.group(1)).contact == cast.acme_user_contact
    assert nps.send_due_surveys(dt.date(2027, 1, 15)) == contacts  # the next quarter
    assert NpsSurvey.objects.count() == 2 * contacts


def test_two_workers_racing_for_a_contact_mail_it_once(cast, monkeypatch):
    turn_on(cast)
    # The other worker read the same due contacts and claimed Bob's row first.
    stale = list(nps.due_contacts(dt.date(2026, 10, 1)))
    NpsSurvey.objects.create(
        contact=cast.acme_user_contact,
        client=cast.acme,
        quarter_start=dt.date(2026, 10, 1),
        mailed=True,
    )
    monkeypatch.setattr(nps, "due_contacts", lambda quarter: stale)
    sent = nps.send_due_surveys(OCT_15)
    assert sent == len(stale) - 1
    assert cast.acme_user_contact.email not in {m.to_address for m in nps_mails()}
    assert NpsSurvey.objects.filter(contact=cast.acme_user_contact).count() == 1


def test_the_link_answers_on_a_click_once_and_refuses_bad_scores_and_old_links(
    cast, client, monkeypatch
):
    token = asked(cast.acme_user_contact)
    path = f"/insights/nps/{token}/"
    opened = client.get(path)
    assert opened.status_code == 200 and 'data-score="10"' in opened.content.decode()
    assert NpsSurvey.objects.get().score is None  # opening never answers
    assert client.post(path, {"score": "11"}).status_code == 400
    assert client.post(path, {"score": "-1"}).status_code == 400
    forged = path.replace(token[:4], "AAAA")
    assert client.post(forged, {"score": "5"}).status_code == 400
    assert NpsSurvey.objects.get().score is None
    done = client.post(path, {"score": "3", "comment": "Slow answers."}).content.decode()
    assert "Thank you" in done and "will contact you" not in done
    survey = NpsSurvey.objects.get()
    assert (survey.score, survey.comment, survey.follow_up) == (3, "Slow answers.", None)
    assert not Ticket.objects.filter(category="Client satisfaction").exists()  # off by default
    assert "Already answered" in client.post(path, {"score": "10"}).content.decode()
    assert NpsSurvey.objects.get().score == 3

    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 31 * 86400)
    stale = asked(cast.acme_admin_contact)
    monkeypatch.setattr(signing.time, "time", real)
    answer = client.post(f"/insights/nps/{stale}/", {"score": "9"})
    assert answer.status_code == 400 and "expired" in answer.content.decode()


def test_a_detractor_opens_a_follow_up_for_the_lead_partner_only_when_turned_on(cast):
    turn_on(cast, follow_up=True)
    nps.answer(None, asked(cast.acme_user_contact), score=7, source=Source.CLI)
    assert not Ticket.objects.filter(category="Client satisfaction").exists()
    survey = nps.answer(
        None, asked(cast.acme_admin_contact), score=6, comment="Too dear", source=Source.CLI
    )
    follow = survey.follow_up
    assert (follow.client, follow.assignee, follow.category) == (
        cast.acme,
        cast.partner_record,
        "Client satisfaction",
    )
    body = follow.articles.first().body_text
    assert "6 out of 10" in body and "Too dear" in body and body.endswith("would change it.")


def test_the_portal_shows_the_card_while_due_and_answering_hides_it(cast, web_as):
    bob = web_as(cast.client_user)
    assert 'id="nps-card"' not in bob.get("/portal/").content.decode()
    assert bob.get("/insights/nps/answer/").status_code == 404
    turn_on(cast, day=1)
    assert 'id="nps-card"' in bob.get("/portal/").content.decode()
    form = bob.get("/insights/nps/answer/")
    assert form.status_code == 200 and 'data-score="0"' in form.content.decode()
    assert bob.post("/insights/nps/answer/", {"score": "12"}).status_code == 400
    assert "Thank you" in bob.post("/insights/nps/answer/", {"score": "10"}).content.decode()
    assert 'id="nps-card"' not in bob.get("/portal/").content.decode()
    assert bob.get("/insights/nps/answer/").status_code == 404
    # asked on the portal this quarter: the clock does not mail Bob as well
    nps.send_due_surveys()
    assert cast.acme_user_contact.email not in {m.to_address for m in nps_mails()}
    assert web_as(cast.partner).get("/insights/nps/answer/").status_code == 404


def test_the_score_per_practice_and_client_is_promoters_less_detractors(cast, api_as):
    acme_people = [cast.acme_user_contact, cast.acme_admin_contact]
    for n, score in enumerate((10, 9, 7, 3)):  # 2 promoters, 1 detractor of 4: +25
        quarter = dt.date(2026 - n // 2, 10, 1)
        token = asked(acme_people[n % 2], quarter, practice=cast.security)
        nps.answer(None, token, score=score, source=Source.CLI)
    for contact, score in ((cast.globex_user_contact, 6), (cast.globex_admin_contact, 0)):
        nps.answer(None, asked(contact, practice=cast.networking), score=score, source=Source.CLI)
    asked(cast.globex_user_contact, dt.date(2026, 7, 1))  # never answered: not counted

    admin = api_as(cast.admin)
    by_client = {r["name"]: r for r in admin.get("/api/v1/insights/nps-by/client").json()}
    assert by_client["Acme Bakery"]["nps"] == 25.0
    assert (by_client["Acme Bakery"]["promoters"], by_client["Acme Bakery"]["passives"]) == (2, 1)
    assert (by_client["Globex Dental"]["nps"], by_client["Globex Dental"]["count"]) == (-100.0, 2)
    by_practice = {
        r["name"]: r["nps"] for r in admin.get("/api/v1/insights/nps-by/practice").json()
    }
    assert by_practice == {"Security": 25.0, "Networking": -100.0}

    sees = {
        "client_admin": {"Acme Bakery"},
        "other_client_admin": {"Globex Dental"},
        "partner": {"Acme Bakery"},
        "outsider": set(),
    }
    for role, names in sees.items():
        rows = api_as(getattr(cast, role)).get("/api/v1/insights/nps-by/client")
        assert {r["name"] for r in (rows.json() if rows.status_code == 200 else [])} == names
    mine = api_as(cast.client_user).get("/api/v1/insights/nps").json()
    assert {r["contact_id"] for r in mine} == {cast.acme_user_contact.pk}


def test_the_results_page_shows_scores_and_lets_only_the_admin_turn_it_on(cast, web_as):
    nps.answer(None, asked(cast.acme_user_contact), score=10, source=Source.CLI)
    page = web_as(cast.admin).get("/insights/nps/").content.decode()
    assert 'data-nps="100.0"' in page and 'id="nps-policy"' in page
    metrics = web_as(cast.admin).get("/insights/metrics/").content.decode()
    assert 'id="metrics-nps-client"' in metrics and 'data-nps="100.0"' in metrics
    theirs = web_as(cast.other_client_admin).get("/insights/metrics/").content.decode()
    assert 'id="metrics-nps-client"' in theirs and 'data-nps="100.0"' not in theirs
    refused = web_as(cast.admin).post("/insights/nps/", {"enabled": "on", "day_of_quarter": "91"})
    assert refused.status_code == 400 and not nps.NpsPolicy.current().enabled
    web_as(cast.admin).post("/insights/nps/", {"enabled": "on", "day_of_quarter": "20"})
    policy = nps.NpsPolicy.current()
    assert (policy.enabled, policy.day_of_quarter, policy.follow_up_detractors) == (True, 20, False)
    other = web_as(cast.other_client_admin).get("/insights/nps/").content.decode()
    assert "Acme Bakery" not in other and 'id="nps-policy"' not in other
    assert web_as(cast.partner).post("/insights/nps/", {"day_of_quarter": "3"}).status_code == 404
    assert web_as(cast.client_user).get("/insights/nps/").status_code == 404


def test_the_api_takes_an_answer_refusing_bad_fields(cast, api_as):
    token = asked(cast.acme_user_contact)
    bob = api_as(cast.client_user)
    for bad, field in (
        ({"token": token, "score": 11}, "score"),
        ({"token": token, "score": 3, "comment": "x" * 1001}, "comment"),
        ({"token": "nonsense", "score": 3}, "token"),
    ):
        refused = bob.post("/api/v1/insights/nps", bad, content_type="application/json")
        assert refused.status_code == 400, refused.content
        assert field in {e["field"] for e in refused.json()["errors"]}
    made = bob.post(
        "/api/v1/insights/nps", {"token": token, "score": 9}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["score"] == 9
    twice = bob.post(
        "/api/v1/insights/nps", {"token": token, "score": 2}, content_type="application/json"
    )
    assert twice.status_code == 400


pytestmark = pytest.mark.django_db
