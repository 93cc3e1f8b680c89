"""The service desk's services: every act, its rules, its audit record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord
from thirdway.tickets import services
from thirdway.tickets.lifecycle import TransitionRefused
from thirdway.tickets.models import Article, Attachment, Ticket, TicketLink
from thirdway.tickets.services import AttachmentTooLarge, Upload

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def open_ticket(cast, actor=None, **extra) -> Ticket:
    data = {"subject": "Printer jammed", "body_text": "The printer in the bakery is jammed."}
    return services.create_ticket(
        actor or cast.client_user, cast.acme, source="web", **(data | extra)
    )


def audit_actions(ticket: Ticket) -> list[str]:
    return list(
        AuditRecord.objects.for_object(ticket).order_by("id").values_list("action", flat=True)
    )


def test_a_client_user_opens_a_ticket_as_themselves(cast):
    ticket = open_ticket(cast, priority=1)
    assert ticket.requester == cast.acme_user_contact
    assert ticket.priority == 3  # the matrix, not the requested override
    assert ticket.status == "new"
    assert ticket.number == f"TW-{10000 + ticket.pk}"
    assert list(ticket.watchers.all()) == [cast.client_user]
    assert ticket.articles.get().kind == "reply"
    assert audit_actions(ticket) == ["ticket.create"]


def test_a_client_user_may_not_name_another_requester(cast):
    with pytest.raises(ValidationError) as refused:
        open_ticket(cast, requester_id=cast.acme_admin_contact.pk)
    assert list(refused.value.message_dict) == ["requester"]
    assert not Ticket.objects.exists()


def test_a_client_admin_may_name_another_contact_of_theirs(cast):
    ticket = open_ticket(cast, actor=cast.client_admin, requester_id=cast.acme_user_contact.pk)
    assert ticket.requester == cast.acme_user_contact


def test_nobody_opens_tickets_for_another_organisation(cast):
    with pytest.raises(PermissionDenied):
        services.create_ticket(
            cast.client_user, cast.globex, subject="x", body_text="y", source="web"
        )
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["requester_id", "site_id", "asset_id"])
def test_ids_of_another_clients_objects_are_refused_naming_the_field(cast, field):
    foreign = {
        "requester_id": cast.globex_user_contact.pk,
        "site_id": cast.globex_site.pk,
        "asset_id": cast.globex_laptop.pk,
    }[field]
    with pytest.raises(ValidationError) as refused:
        open_ticket(cast, actor=cast.partner, **{field: foreign})
    assert field.removesuffix("_id") in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_the_network_overrides_the_matrix_only_with_a_reason(cast):
    with pytest.raises(ValidationError) as refused:
        open_ticket(cast, actor=cast.desk, impact=3, urgency=3, priority=1)
    assert "priority_reason" in refused.value.message_dict
    ticket = open_ticket(
        cast,
        actor=cast.desk,
        impact=3,
        urgency=3,
        priority=1,
        priority_reason="CEO's laptop before a board meeting",
    )
    assert ticket.priority == 1


def test_an_empty_subject_or_body_is_refused(cast):
    with pytest.raises(ValidationError, match="subject"):
        open_ticket(cast, subject="<b></b>  ")
    with pytest.raises(ValidationError, match="empty"):
        open_ticket(cast, body_text="   ")
    assert not Ticket.objects.exists()


def test_the_first_network_reply_is_the_first_response(cast):
    ticket = open_ticket(cast)
    services.reply(cast.client_user, ticket, body_text="Any news?", source="web")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    article = services.reply(cast.partner, ticket, body_text="On my way", source="web")
    ticket.refresh_from_db()
    assert ticket.first_responded_at == article.created_at


def test_a_client_reply_resumes_a_ticket_waiting_on_them(cast):
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, "waiting_client", source="web")
    services.reply(cast.client_user, ticket, body_text="Here is the photo", source="web")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    events = list(ticket.articles.filter(kind="event").values_list("event", flat=True))
    assert events == ["status", "status"]


def test_a_client_reply_reopens_a_recently_closed_ticket_but_not_an_old_one(cast, settings):
    settings.TICKET_REOPEN_DAYS = 7
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, "resolved", source="web")
    services.change_status(cast.client_user, ticket, "closed", source="web")
    services.reply(cast.client_user, ticket, body_text="It broke again", source="web")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert ticket.closed_at is None
    services.change_status(cast.partner, ticket, "closed", source="web")
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))
    count = Article.objects.count()
    with pytest.raises(ValidationError, match="new ticket"):
        services.reply(cast.client_user, ticket, body_text="Again", source="web")
    assert Article.objects.count() == count


def test_clients_may_close_but_not_otherwise_change_status(cast):
    ticket = open_ticket(cast)
    with pytest.raises(PermissionDenied):
        services.change_status(cast.client_user, ticket, "resolved", source="web")
    services.change_status(cast.client_user, ticket, "closed", source="web")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


def test_notes_are_for_the_network_only(cast):
    ticket = open_ticket(cast)
    with pytest.raises(PermissionDenied):
        services.note(cast.client_admin, ticket, body_text="psst", source="web")
    services.note(cast.partner, ticket, body_text="Toner supplier is slow", source="web")
    assert Article.objects.for_user(cast.client_user).filter(kind="note").count() == 0
    assert Article.objects.for_user(cast.partner).filter(kind="note").count() == 1


def test_assigning_moves_a_new_ticket_to_assigned_and_back(cast):
    ticket = open_ticket(cast)
    services.assign(cast.desk, ticket, cast.partner_record, source="web")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("assigned", cast.partner_record)
    services.assign(cast.desk, ticket, None, source="web")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("new", None)
    assert audit_actions(ticket) == ["ticket.create", "ticket.assign", "ticket.assign"]


def test_an_invalid_status_change_lists_the_allowed_ones_and_changes_nothing(cast):
    ticket = open_ticket(cast)
    services.change_status(cast.partner, ticket, "resolved", source="web")
    with pytest.raises(TransitionRefused) as refused:
        services.change_status(cast.partner, ticket, "waiting_client", source="web")
    assert refused.value.allowed == ["closed", "in_progress"]
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_a_parent_waits_for_its_children_unless_forced_with_a_reason(cast):
    parent, child = open_ticket(cast), open_ticket(cast, subject="Child")
    services.link(cast.partner, parent, child, "parent", source="web")
    with pytest.raises(ValidationError, match=child.number):
        services.change_status(cast.partner, parent, "resolved", source="web")
    with pytest.raises(ValidationError):
        services.change_status(cast.partner, parent, "resolved", force=True, source="web")
    services.change_status(
        cast.partner,
        parent,
        "resolved",
        force=True,
        reason="Child tracked by the vendor",
        source="web",
    )
    assert Ticket.objects.get(pk=parent.pk).status == "resolved"


def test_parent_links_cannot_make_a_cycle(cast):
    a, b = open_ticket(cast), open_ticket(cast)
    services.link(cast.partner, a, b, "parent", source="web")
    with pytest.raises(ValidationError):
        services.link(cast.partner, b, a, "parent", source="web")
    assert TicketLink.objects.count() == 1


def test_a_merge_moves_every_article_and_attachment_and_leaves_a_pointer(cast):
    target = open_ticket(cast)
    duplicate = open_ticket(cast, subject="Printer again", uploads=[Upload("scan.pdf", PDF)])
    services.note(cast.partner, duplicate, body_text="same as the other one", source="web")
    moving = set(duplicate.articles.values_list("pk", flat=True))
    services.merge(cast.partner, duplicate, target, source="web")
    duplicate.refresh_from_db()
    assert duplicate.status == "merged" and duplicate.merged_into == target
    assert moving <= set(target.articles.values_list("pk", flat=True))
    assert Attachment.objects.get().ticket == target
    with pytest.raises(ValidationError, match="merged"):
        services.reply(cast.partner, duplicate, body_text="late", source="web")


def test_tickets_of_different_clients_are_never_merged(cast):
    mine = open_ticket(cast)
    theirs = services.create_ticket(
        cast.other_client_user, cast.globex, subject="x", body_text="y", source="web"
    )
    with pytest.raises(ValidationError, match="different clients"):
        services.merge(cast.admin, mine, theirs, source="web")


def test_a_split_moves_the_chosen_articles_to_a_new_ticket(cast):
    ticket = open_ticket(cast)
    second = services.reply(cast.client_user, ticket, body_text="Also the scanner", source="web")
    total = ticket.articles.count()
    new = services.split(cast.partner, ticket, [second.pk], subject="Scanner", source="web")
    assert list(new.articles.filter(kind="reply")) == [second]
    assert ticket.articles.count() + new.articles.count() == total + 2  # one event on each
    assert new.requester == ticket.requester
    with pytest.raises(ValidationError):
        services.split(cast.partner, ticket, [], subject="nothing", source="web")


def test_bulk_update_reports_each_ticket(cast):
    first, second = open_ticket(cast), open_ticket(cast)
    services.change_status(cast.partner, second, "resolved", source="web")
    result = services.bulk_update(cast.desk, [first, second], status="waiting_client", source="web")
    assert result.updated == [first.pk]
    assert "cannot become waiting_client" in result.refused[second.pk]


def test_attachments_are_sniffed_and_active_content_is_never_served_as_such(cast):
    ticket = open_ticket(
        cast,
        uploads=[
            Upload("invoice.txt", PDF),
            Upload("page.html", b"<html><script>alert(1)</script></html>"),
            Upload("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ],
    )
    types = dict(ticket.attachments.values_list("filename", "content_type"))
    assert types == {
        "invoice.txt": "application/pdf",
        "page.html": "application/octet-stream",
        "drawing.svg": "application/octet-stream",
    }
    stored = ticket.attachments.get(filename="invoice.txt")
    assert stored.file.read() == PDF


def test_an_over_size_attachment_is_refused_and_nothing_is_stored(cast, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(AttachmentTooLarge, match="limit is 10 bytes"):
        open_ticket(cast, uploads=[Upload("big.pdf", PDF)])
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_only_the_network_changes_priority_and_needs_a_reason_to_override(cast):
    ticket = open_ticket(cast)
    with pytest.raises(PermissionDenied):
        services.change_priority(cast.client_admin, ticket, priority=1, source="web")
    services.change_priority(cast.partner, ticket, impact=1, urgency=1, source="web")
    assert Ticket.objects.get(pk=ticket.pk).priority == 1
    with pytest.raises(ValidationError):
        services.change_priority(cast.partner, ticket, priority=4, source="web")
    assert audit_actions(ticket)[-1] == "ticket.priority"


@pytest.mark.django_db(transaction=True)
def test_a_change_to_one_ticket_leaves_the_clients_other_tickets_free(cast):
    """Replying locks the ticket's row, not its client's: two people answering two tickets of
    one client never wait on each other."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's: SQLite takes one writer at a time")
    first, second = open_ticket(cast), open_ticket(cast, subject="Till offline")
    outcome: list[object] = []

    def answer_the_other() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                outcome.append(
                    services.reply(cast.client_user, second, body_text="Still off.", source="web")
                )
        except Exception as error:  # reported below
            outcome.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        services.reply(cast.client_user, first, body_text="Still jammed.", source="web")
        other = threading.Thread(target=answer_the_other)
        other.start()
        other.join()  # while the first reply's transaction is still open
    [article] = outcome
    assert isinstance(article, Article), article
    assert article.ticket_id == second.pk
