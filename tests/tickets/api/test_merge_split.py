"""Merging and splitting through the API lose no article and no file; a parent waits for its
children unless forced with a reason."""

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, Attachment, Ticket

from .conftest import get, post


def timeline(ticket) -> set[int]:
    return set(Article.objects.filter(ticket=ticket).values_list("pk", flat=True))


def files(ticket) -> set[int]:
    return set(Attachment.objects.filter(ticket=ticket).values_list("pk", flat=True))


def test_merging_moves_every_article_and_file_into_the_target(cast, desk, api_as):
    source, target = desk.acme_bob, desk.acme_alice
    moved, kept = timeline(source), timeline(target)
    moved_files = files(source)
    assert moved_files == {desk.reply_file.pk, desk.note_file.pk}
    total = Article.objects.count()

    client = api_as(cast.partner)
    response = post(client, f"/tickets/{source.pk}/merge", {"into": target.pk})

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    # Every article now on the target, plus one event on each ticket saying what happened.
    assert Article.objects.count() == total + 2
    assert moved | kept <= timeline(target)
    assert len(timeline(target) - moved - kept) == 1
    assert {a.event for a in Article.objects.filter(ticket=source)} == {"merged"}
    assert files(target) == moved_files and files(source) == set()
    assert Attachment.objects.get(pk=desk.note_file.pk).article_id == desk.note.pk
    merged = get(client, f"/tickets/{source.pk}").json()
    assert (merged["status"], merged["merged_into_id"]) == ("merged", target.pk)
    items = get(client, f"/tickets/{target.pk}/articles", limit=100).json()["items"]
    assert moved <= {item["id"] for item in items}
    # The requester of the source follows the target, and sees its public messages.
    bob = get(api_as(cast.client_user), f"/tickets/{target.pk}/articles", limit=100).json()
    assert {item["id"] for item in bob["items"]} == set(
        Article.objects.filter(ticket=target, kind="reply").values_list("pk", flat=True)
    )


def test_a_merged_ticket_takes_no_more_changes(cast, desk, api_as):
    client = api_as(cast.partner)
    source = desk.acme_bob
    post(client, f"/tickets/{source.pk}/merge", {"into": desk.acme_alice.pk})
    before = get(client, f"/tickets/{source.pk}").json()
    for url, payload in (
        ("reply", {"body_text": "Late"}),
        ("note", {"body_text": "Late"}),
        ("assign", {"partner": cast.partner_record.pk}),
        ("priority", {"impact": 1}),
    ):
        response = post(client, f"/tickets/{source.pk}/{url}", payload)
        assert response.status_code == 400, (url, response.content)
        assert desk.acme_alice.number in response.json()["errors"][0]["problem"]
    assert get(client, f"/tickets/{source.pk}").json() == before


def test_splitting_moves_the_chosen_articles_and_their_files_and_keeps_the_rest(cast, desk, api_as):
    ticket = desk.acme_bob
    chosen = [desk.note.pk, desk.reply_file.article_id]
    before = timeline(ticket)
    total = Article.objects.count()

    response = post(
        api_as(cast.partner),
        f"/tickets/{ticket.pk}/split",
        {"articles": chosen, "subject": "Widget supplier"},
    )

    assert response.status_code == 201, response.content
    new = Ticket.objects.get(pk=response.json()["id"])
    assert (new.subject, new.client_id, new.requester_id) == (
        "Widget supplier",
        ticket.client_id,
        ticket.requester_id,
    )
    assert Article.objects.count() == total + 2  # one event on each side
    assert set(chosen) <= timeline(new)
    assert before - set(chosen) <= timeline(ticket)
    assert (timeline(ticket) | timeline(new)) - before == set(
        Article.objects.filter(event="split").values_list("pk", flat=True)
    )
    assert files(new) == {desk.reply_file.pk, desk.note_file.pk}
    assert files(ticket) == set()
    assert response.json()["number"] == new.number


def test_a_split_must_leave_something_behind(cast, desk, api_as):
    ticket = desk.acme_alice
    everything = list(
        Article.objects.filter(ticket=ticket).exclude(kind="event").values_list("pk", flat=True)
    )
    response = post(api_as(cast.partner), f"/tickets/{ticket.pk}/split", {"articles": everything})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "articles"
    assert set(everything) <= timeline(ticket)


def test_a_parent_with_an_open_child_is_resolved_only_when_forced_with_a_reason(cast, desk, api_as):
    client = api_as(cast.admin)
    parent, child = desk.acme_bob, desk.acme_alice
    linked = post(client, f"/tickets/{parent.pk}/links", {"target": child.pk, "kind": "parent"})
    assert linked.status_code == 201
    url = f"/tickets/{parent.pk}/status"

    refused = post(client, url, {"status": "resolved"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "status"
    assert child.number in refused.json()["errors"][0]["problem"]
    no_reason = post(client, url, {"status": "resolved", "force": True})
    assert no_reason.status_code == 400
    assert Ticket.objects.get(pk=parent.pk).status == "new"

    forced = post(client, url, {"status": "resolved", "force": True, "reason": "Known issue"})
    assert forced.status_code == 200
    assert forced.json()["status"] == "resolved"
    event = Article.objects.filter(ticket=parent, event="status").last()
    assert "Known issue" in event.body_text


def test_a_parent_is_resolved_freely_once_its_children_are(cast, desk, api_as):
    client = api_as(cast.admin)
    parent, child = desk.acme_bob, desk.acme_alice
    services.link(cast.admin, parent, child, "parent", source=Source.CLI)
    assert post(client, f"/tickets/{child.pk}/status", {"status": "resolved"}).status_code == 200
    response = post(client, f"/tickets/{parent.pk}/status", {"status": "resolved"})
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"


def test_a_ticket_cannot_become_the_parent_of_its_own_parent(cast, desk, api_as):
    client = api_as(cast.admin)
    a, b = desk.acme_bob, desk.acme_alice
    first = post(client, f"/tickets/{a.pk}/links", {"target": b.pk, "kind": "parent"})
    assert first.status_code == 201, first.content
    response = post(client, f"/tickets/{b.pk}/links", {"target": a.pk, "kind": "parent"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "target"
