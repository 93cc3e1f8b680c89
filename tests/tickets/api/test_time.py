"""Time on a reply or note through the API: its kind of work and whether it is billable."""

from __future__ import annotations

import pytest

from support.api import API
from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Article


@pytest.fixture
def ticket(cast):
    return services.create_ticket(
        cast.admin, cast.acme, subject="Printer", body_text="Jammed", source=Source.CLI
    )


def test_a_note_keeps_its_time_kind_and_billable(cast, ticket, api_as):
    response = api_as(cast.partner).post(
        f"{API}/tickets/{ticket.pk}/note",
        {
            "body_text": "Drove there.",
            "time_spent_minutes": 35,
            "work_type": "travel",
            "billable": False,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["time_spent_minutes"], body["work_type"], body["billable"]) == (
        35,
        "travel",
        False,
    )
    article = Article.objects.get(pk=body["id"])
    assert (article.work_type, article.billable) == ("travel", False)


def test_an_unknown_kind_of_work_is_a_400_naming_it_and_writes_nothing(cast, ticket, api_as):
    before = Article.objects.count()
    response = api_as(cast.partner).post(
        f"{API}/tickets/{ticket.pk}/reply",
        {"body_text": "x", "time_spent_minutes": 5, "work_type": "golf"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "work_type"
    assert Article.objects.count() == before
