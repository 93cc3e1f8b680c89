"""Who sees and changes which tickets through /api/v1/tickets: every endpoint, every role.

A ticket, article or file the caller cannot see answers 404 with no data, exactly as one that
does not exist; a visible ticket the caller may not change answers 403; internal notes (and
their files) never reach a client contact, whatever the door.
"""

import pytest

from thirdway.audit.models import AuditRecord, Source
from thirdway.tickets import services
from thirdway.tickets.models import Article, Attachment, Ticket, TicketLink

from .conftest import (
    API,
    CONTACTS,
    NETWORK,
    NOTE_WORD,
    ROLES,
    SEES,
    get,
    names_of,
    numbers,
    patch,
    post,
)

NOT_FOUND = {"detail": "Not found."}


def as_role(cast, api_as, role):
    return api_as(getattr(cast, role))


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_exactly_the_tickets_it_may_see(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    assert names_of(desk, numbers(get(client, "/tickets", limit=100))) == SEES[role]
    # Filters narrow what is visible, never widen it.
    for other in (cast.acme, cast.globex):
        listed = names_of(desk, numbers(get(client, "/tickets", client=other.pk)))
        assert listed == {name for name in SEES[role] if name.startswith(other.name[:4].lower())}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_the_tickets_it_may_see(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    for name, ticket in desk.tickets().items():
        response = get(client, f"/tickets/{ticket.pk}")
        if name in SEES[role]:
            assert response.status_code == 200, (name, response.content)
            assert response.json()["number"] == ticket.number
        else:
            assert response.status_code == 404, (name, response.content)
            assert response.json() == NOT_FOUND


@pytest.mark.parametrize("role", ROLES)
def test_each_role_finds_exactly_the_tickets_it_may_see(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)

    def found(query) -> set[str]:
        response = get(client, "/tickets/search", q=query)
        assert response.status_code == 200, response.content
        return names_of(desk, {hit["number"] for hit in response.json()})

    assert found("widget") == SEES[role]
    assert names_of(desk, numbers(get(client, "/tickets", q="widget"))) == SEES[role]
    # The note's word is found by the network that sees the ticket, by no contact.
    expected = {"acme_bob"} if role in NETWORK and "acme_bob" in SEES[role] else set()
    assert found(NOTE_WORD) == expected
    # Guessing a number finds the ticket only for who may see it.
    for name, ticket in desk.tickets().items():
        assert found(ticket.number) == ({name} if name in SEES[role] else set())
        assert found(str(ticket.pk + 10000)) == ({name} if name in SEES[role] else set())


@pytest.mark.parametrize("role", ROLES)
def test_a_timeline_shows_notes_and_events_to_the_network_only(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    for name, ticket in desk.tickets().items():
        response = get(client, f"/tickets/{ticket.pk}/articles")
        if name not in SEES[role]:
            assert response.status_code == 404
            assert response.json() == NOT_FOUND
            continue
        assert response.status_code == 200, response.content
        shown = {item["id"] for item in response.json()["items"]}
        timeline = Article.objects.filter(ticket=ticket)
        if role in NETWORK:
            assert shown == set(timeline.values_list("pk", flat=True))
        else:
            assert shown == set(timeline.filter(kind="reply").values_list("pk", flat=True))
            assert NOTE_WORD not in response.content.decode()
    if role in NETWORK and "acme_bob" in SEES[role]:
        items = get(client, f"/tickets/{desk.acme_bob.pk}/articles").json()["items"]
        assert desk.note.pk in {item["id"] for item in items}


# Who may download each file: those who see the article that carries it.
FILE_READERS = {
    "reply_file": {role for role in ROLES if "acme_bob" in SEES[role]},
    "note_file": {role for role in NETWORK if "acme_bob" in SEES[role]},
    "globex_file": {role for role in ROLES if "globex_hank" in SEES[role]},
}


@pytest.mark.parametrize("role", ROLES)
def test_files_are_served_only_to_who_sees_the_article_that_carries_them(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    for name, attachment in desk.files().items():
        response = client.get(f"{API}/tickets/attachments/{attachment.pk}")
        if role in FILE_READERS[name]:
            assert response.status_code == 200, name
            assert b"".join(response.streaming_content) == attachment.file.open("rb").read()
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
        else:
            assert response.status_code == 404, name
            assert response.json() == NOT_FOUND


@pytest.mark.parametrize("role", CONTACTS)
def test_notes_reach_no_contact_through_any_answer(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    answers = [
        get(client, "/tickets", limit=100),
        get(client, "/tickets", q=NOTE_WORD),
        get(client, "/tickets/search", q=NOTE_WORD),
        get(client, "/tickets/search", q="widget"),
    ]
    for ticket in desk.tickets().values():
        answers += [
            get(client, f"/tickets/{ticket.pk}"),
            get(client, f"/tickets/{ticket.pk}/articles"),
        ]
    for response in answers:
        text = response.content.decode()
        assert NOTE_WORD not in text
        assert "invoice.txt" not in text
        assert f"/tickets/attachments/{desk.note_file.pk}" not in text


def test_a_link_to_a_ticket_the_caller_cannot_see_is_not_shown(cast, desk, api_as):
    services.link(cast.admin, desk.acme_bob, desk.globex_hank, "related", source=Source.CLI)
    services.link(cast.admin, desk.acme_bob, desk.acme_alice, "related", source=Source.CLI)
    for role, expected in (
        ("admin", {desk.globex_hank.number, desk.acme_alice.number}),
        ("partner", {desk.acme_alice.number}),
        ("client_admin", {desk.acme_alice.number}),
        ("client_user", set()),
    ):
        body = get(as_role(cast, api_as, role), f"/tickets/{desk.acme_bob.pk}").json()
        assert {link["target_number"] for link in body["links"]} == expected, role


# --- changing ----------------------------------------------------------------------------------


@pytest.fixture
def extras(cast, desk):
    """A second ticket of each client (the admin's, unassigned) to merge into and link to; each
    desk ticket is already linked to its client's extra."""
    made = {}
    for client in (cast.acme, cast.globex):
        made[client.pk] = services.create_ticket(
            cast.admin, client, subject="Spare", body_text="A spare widget.", source=Source.CLI
        )
    for ticket in desk.tickets().values():
        services.link(cast.admin, ticket, made[ticket.client_id], "related", source=Source.CLI)
    return made


# Whether a spare ticket is visible, by role (the admin's unassigned tickets of each client).
SEES_SPARE = {
    "acme": {"admin", "desk", "partner", "client_admin"},
    "globex": {"admin", "desk", "other_partner", "other_client_admin"},
}


def spare_of(cast, extras, ticket):
    return extras[ticket.client_id]


def sees_spare(role, ticket) -> bool:
    return role in SEES_SPARE["acme" if ticket.client.name.startswith("Acme") else "globex"]


def upload(client, ticket):
    return client.post(
        f"{API}/tickets/{ticket.pk}/attachments",
        {"files": [_file()], "body_text": "Here is the log."},
    )


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("log.txt", b"widget log\n", content_type="text/plain")


def first_reply(ticket) -> int:
    return Article.objects.filter(ticket=ticket, kind="reply").order_by("id").first().pk


# endpoint: (call, status for the network, status for a contact who sees the ticket)
WRITES = {
    "update": (lambda c, t, x: patch(c, f"/tickets/{t.pk}", {"category": "Hardware"}), 200, 403),
    "reply": (lambda c, t, x: post(c, f"/tickets/{t.pk}/reply", {"body_text": "News?"}), 201, 201),
    "note": (lambda c, t, x: post(c, f"/tickets/{t.pk}/note", {"body_text": "Hmm"}), 201, 403),
    "status": (
        lambda c, t, x: post(c, f"/tickets/{t.pk}/status", {"status": "in_progress"}),
        200,
        403,
    ),
    "close": (lambda c, t, x: post(c, f"/tickets/{t.pk}/status", {"status": "closed"}), 200, 200),
    "assign": (lambda c, t, x: post(c, f"/tickets/{t.pk}/assign", {"partner": x}), 200, 403),
    "priority": (lambda c, t, x: post(c, f"/tickets/{t.pk}/priority", {"impact": 1}), 200, 403),
    "split": (
        lambda c, t, x: post(c, f"/tickets/{t.pk}/split", {"articles": [first_reply(t)]}),
        201,
        403,
    ),
    "upload": (lambda c, t, x: upload(c, t), 201, 201),
}


def state_of(ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.status,
        ticket.priority,
        ticket.assignee_id,
        ticket.category,
        Article.objects.filter(ticket=ticket).count(),
        Attachment.objects.filter(ticket=ticket).count(),
        AuditRecord.objects.filter(scope=f"ticket:{ticket.pk}").count(),
    )


@pytest.mark.parametrize("endpoint", WRITES)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_changes_only_the_tickets_it_may(role, endpoint, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    call, network_status, contact_status = WRITES[endpoint]
    for name, ticket in desk.tickets().items():
        before = state_of(ticket)
        response = call(client, ticket, cast.partner_record.pk)
        if name not in SEES[role]:
            expected = 404
        elif role in NETWORK:
            expected = network_status
        else:
            expected = contact_status
        assert response.status_code == expected, (name, response.content)
        if expected in (403, 404):
            assert state_of(ticket) == before, name
        if expected == 404:
            assert response.json() == NOT_FOUND


@pytest.mark.parametrize("role", ROLES)
def test_merging_needs_both_tickets_in_sight(role, cast, desk, extras, api_as):
    client = as_role(cast, api_as, role)
    for name, ticket in desk.tickets().items():
        spare = spare_of(cast, extras, ticket)
        response = post(client, f"/tickets/{ticket.pk}/merge", {"into": spare.pk})
        if name not in SEES[role]:
            assert response.status_code == 404
        elif role not in NETWORK:
            assert response.status_code == 403
        elif not sees_spare(role, ticket):
            assert response.status_code == 400
            assert [error["field"] for error in response.json()["errors"]] == ["into"]
        else:
            assert response.status_code == 200, response.content
            assert response.json()["id"] == spare.pk
        merged = Ticket.objects.get(pk=ticket.pk).merged_into_id
        assert merged == (spare.pk if response.status_code == 200 else None)


@pytest.mark.parametrize("role", ROLES)
def test_linking_needs_both_tickets_in_sight(role, cast, desk, extras, api_as):
    client = as_role(cast, api_as, role)
    for name, ticket in desk.tickets().items():
        spare = spare_of(cast, extras, ticket)
        link = TicketLink.objects.get(source=ticket, target=spare)
        added = post(client, f"/tickets/{ticket.pk}/links", {"target": spare.pk, "kind": "parent"})
        removed = client.delete(f"{API}/tickets/{ticket.pk}/links/{link.pk}")
        if name not in SEES[role]:
            assert (added.status_code, removed.status_code) == (404, 404)
        elif role not in NETWORK:
            assert (added.status_code, removed.status_code) == (403, 403)
        elif not sees_spare(role, ticket):
            assert added.status_code == 400
            assert [error["field"] for error in added.json()["errors"]] == ["target"]
            assert removed.status_code == 404
        else:
            assert (added.status_code, removed.status_code) == (201, 204)
            assert added.json()["kind"] == "parent"
        link_kept = TicketLink.objects.filter(pk=link.pk).exists()
        assert link_kept == (removed.status_code != 204)


@pytest.mark.parametrize("role", ROLES)
def test_bulk_changes_only_what_the_caller_may_change(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    tickets = desk.tickets()
    response = post(
        client,
        "/tickets/bulk",
        {"tickets": [t.pk for t in tickets.values()], "priority": 1, "reason": "Outage"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    changed = {name for name in SEES[role]} if role in NETWORK else set()
    by_pk = {t.pk: name for name, t in tickets.items()}
    assert {by_pk[pk] for pk in body["updated"]} == changed
    refused = {by_pk[item["id"]]: item["reason"] for item in body["refused"]}
    assert set(refused) == set(tickets) - changed
    for name, reason in refused.items():
        assert reason == "Not found." if name not in SEES[role] else reason != "Not found."
    for name, ticket in tickets.items():
        assert Ticket.objects.get(pk=ticket.pk).priority == (1 if name in changed else 3)


@pytest.mark.parametrize("role", ROLES)
def test_only_who_sees_a_client_opens_tickets_for_it(role, cast, desk, api_as):
    client = as_role(cast, api_as, role)
    may_open = {
        "acme": {"admin", "desk", "partner", "associate", "client_admin", "client_user"},
        "globex": {"admin", "desk", "other_partner", "other_client_admin", "other_client_user"},
    }
    for key, target in (("acme", cast.acme), ("globex", cast.globex)):
        count = Ticket.objects.count()
        response = post(
            client, "/tickets", {"client": target.pk, "subject": "New", "body_text": "Hello"}
        )
        if role == "outsider":
            assert response.status_code == 403
        elif role in may_open[key]:
            assert response.status_code == 201, response.content
            assert response.json()["client_id"] == target.pk
            assert response.json()["channel"] == "api"
        else:
            assert response.status_code == 400, response.content
            assert [error["field"] for error in response.json()["errors"]] == ["client"]
        assert Ticket.objects.count() == count + (response.status_code == 201)
