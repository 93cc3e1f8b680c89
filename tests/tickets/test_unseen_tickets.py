"""Events about a ticket the reader may not see name no number and no id: "another ticket",
on the desk's ticket page, in the API's timeline and in the portal alike."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from support.api import API
from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, ArticleKind, Ticket


@dataclass
class Story:
    """Ada (associate) works ``mine``: ``folded`` was merged into it, ``spun_off`` split from
    it and ``related`` linked to it.  She also worked ``gone``, which Bob (client user) asked
    for, and which was merged into ``final``; Bob was then taken off ``final``'s watchers.
    Ada sees none of the four others, Bob not ``final``; the admin sees them all."""

    mine: Ticket
    gone: Ticket
    folded: Ticket
    spun_off: Ticket
    related: Ticket
    final: Ticket

    def others(self) -> list[Ticket]:
        return [self.folded, self.spun_off, self.related, self.final]

    def other_numbers(self) -> list[str]:
        return [ticket.number for ticket in self.others()]

    def other_ids(self) -> set[int]:
        return {ticket.pk for ticket in self.others()}


def _open(cast, subject: str, **extra) -> Ticket:
    return services.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="Please have a look.",
        requester_id=extra.pop("requester", cast.acme_admin_contact).pk,
        source=Source.CLI,
        **extra,
    )


@pytest.fixture
def story(cast) -> Story:
    ada = cast.associate_record.pk
    mine = _open(cast, "Till offline", assignee_id=ada)
    gone = _open(cast, "Till paper", requester=cast.acme_user_contact, assignee_id=ada)
    folded = _open(cast, "Secret payroll box")
    final = _open(cast, "Secret network rebuild")
    related = _open(cast, "Secret CEO laptop")
    services.merge(cast.admin, folded, mine, source=Source.CLI)
    extra = services.reply(cast.admin, mine, body_text="Second thing", source=Source.CLI)
    spun_off = services.split(
        cast.admin, mine, [extra.pk], subject="Secret spin-off", source=Source.CLI
    )
    services.link(cast.admin, mine, related, "related", source=Source.CLI)
    services.merge(cast.admin, gone, final, source=Source.CLI)
    services.set_watchers(cast.admin, final, [], source=Source.CLI)
    return Story(mine, gone, folded, spun_off, related, final)


def test_the_story_is_as_told(cast, story):
    unseen_by_ada = set(Ticket.objects.for_user(cast.associate).values_list("pk", flat=True))
    assert unseen_by_ada == {story.mine.pk, story.gone.pk}
    assert not Ticket.objects.for_user(cast.client_user).filter(pk=story.final.pk).exists()


NEUTRAL = {
    "Another ticket merged into this ticket (1 articles).",
    "1 articles split off into another ticket.",
    "Now related to another ticket.",
}


def _events_of(items: list[dict]) -> list[dict]:
    return [item for item in items if item["kind"] == ArticleKind.EVENT]


def test_the_ticket_page_names_no_ticket_the_reader_cannot_see(cast, story, web_as):
    page = web_as(cast.associate).get(f"/tickets/{story.mine.number}/")
    assert page.status_code == 200
    html = page.content.decode()

    for number in story.other_numbers():
        assert number not in html, number
    assert "Secret" not in html
    for text in NEUTRAL:
        assert text in html, text

    gone = web_as(cast.associate).get(f"/tickets/{story.gone.number}/").content.decode()
    assert story.final.number not in gone and "Secret" not in gone
    assert "Merged into another ticket." in gone
    assert "Merged into another ticket; its conversation continues there." in gone


def test_the_ticket_page_names_the_tickets_the_reader_can_see(cast, story, web_as):
    html = web_as(cast.admin).get(f"/tickets/{story.mine.number}/").content.decode()
    for ticket in (story.folded, story.spun_off, story.related):
        assert ticket.number in html, ticket.number
    assert "another ticket" not in html
    gone = web_as(cast.admin).get(f"/tickets/{story.gone.number}/").content.decode()
    assert f"Merged into {story.final.number}." in gone


def test_the_api_timeline_names_no_ticket_the_caller_cannot_see(cast, story, api_as):
    ada = api_as(cast.associate)
    response = ada.get(f"{API}/tickets/{story.mine.pk}/articles?limit=100")
    assert response.status_code == 200
    events = _events_of(response.json()["items"])

    assert {event["body_text"] for event in events} >= NEUTRAL
    for number in story.other_numbers():
        assert number not in response.content.decode(), number
    for event in events:
        ids = {value for value in event["data"].values() if isinstance(value, int)}
        assert not ids & story.other_ids(), event
    linked = next(event for event in events if event["event"] == "linked")
    assert linked["data"] == {"kind": "related"}
    gone = ada.get(f"{API}/tickets/{story.gone.pk}/articles").json()
    assert [event["body_text"] for event in _events_of(gone["items"])] == [
        "Merged into another ticket."
    ]
    assert _events_of(gone["items"])[0]["data"] == {}


def test_the_api_names_no_merge_target_the_caller_cannot_see(cast, story, api_as):
    ada = api_as(cast.associate)
    detail = ada.get(f"{API}/tickets/{story.gone.pk}").json()
    assert (detail["status"], detail["merged_into_id"]) == ("merged", None)
    listed = ada.get(f"{API}/tickets?status=merged").json()["items"]
    assert [(item["id"], item["merged_into_id"]) for item in listed] == [(story.gone.pk, None)]
    admin = api_as(cast.admin).get(f"{API}/tickets/{story.gone.pk}").json()
    assert admin["merged_into_id"] == story.final.pk


def test_the_api_timeline_names_the_tickets_the_caller_can_see(cast, story, api_as):
    response = api_as(cast.admin).get(f"{API}/tickets/{story.mine.pk}/articles?limit=100")
    texts = {event["body_text"] for event in _events_of(response.json()["items"])}
    assert f"Now related to {story.related.number}." in texts
    assert not texts & NEUTRAL


def test_the_stored_events_keep_their_numbers(cast, story, api_as):
    api_as(cast.associate).get(f"{API}/tickets/{story.mine.pk}/articles?limit=100")
    stored = Article.objects.get(ticket=story.mine, event="linked")
    assert stored.body_text == f"Now related to {story.related.number}."
    assert stored.data["target"] == story.related.pk


def test_the_portal_names_no_ticket_the_contact_cannot_see(cast, story, web_as):
    page = web_as(cast.client_user).get(f"/portal/tickets/{story.gone.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Merged into another ticket" in html
    assert story.final.number not in html and "Secret" not in html
