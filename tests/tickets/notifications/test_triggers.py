"""Who is told what: each trigger reaches the person it concerns and nobody else, never
someone who cannot see the ticket, and a repeat within minutes is one notification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.network import services as network
from thirdway.tickets import services
from thirdway.tickets.assignment import continuity
from thirdway.tickets.models import Notification, NotificationKind, NotificationPreference, Ticket
from thirdway.tickets.notifications import services as notifications

pytestmark = pytest.mark.django_db


def open_ticket(cast, actor=None, **extra) -> Ticket:
    return services.create_ticket(
        actor or cast.admin,
        cast.acme,
        subject="Printer on fire",
        body_text="The printer in the back office is on fire.",
        requester_id=cast.acme_user_contact.pk,
        practice_id=cast.security.pk,
        source=Source.WEB,
        **extra,
    )


def told(kind=None) -> list[tuple[str, str]]:
    """(username, kind) of every notification, oldest first."""
    rows = Notification.objects.order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("recipient__username", "kind"))


def test_an_assignment_tells_the_new_assignee_and_nobody_else(cast):
    ticket = open_ticket(cast)
    services.assign(cast.desk, ticket, cast.partner_record, source=Source.WEB)
    assert told() == [("paula", NotificationKind.ASSIGNED)]
    [notice] = Notification.objects.all()
    assert notice.ticket == ticket and notice.read_at is None
    assert ticket.number in notice.text and "by Dean Desk" in notice.text


def test_taking_a_ticket_oneself_tells_nobody(cast):
    ticket = open_ticket(cast)
    services.assign(cast.partner, ticket, cast.partner_record, source=Source.WEB)
    assert told() == []


def test_a_ticket_opened_with_an_assignee_tells_them(cast):
    open_ticket(cast, assignee_id=cast.associate_record.pk)
    assert told() == [("ada", NotificationKind.ASSIGNED)]


def test_an_assignee_who_cannot_see_the_ticket_is_not_told(cast):
    # Oscar serves Globex only; given an Acme ticket he sees it (it is his), so he is told;
    # but a deactivated account is never told.
    ticket = open_ticket(cast)
    network.update_partner(
        cast.admin, cast.other_partner_record, {"is_active": False}, source=Source.CLI
    )
    services.assign(cast.desk, ticket, cast.other_partner_record, source=Source.WEB)
    assert told() == []


def test_nobody_outside_the_ticket_s_scope_is_ever_told(cast):
    ticket = open_ticket(cast)
    for user in (cast.other_partner, cast.client_admin, cast.outsider):
        assert notifications.notify(user, NotificationKind.ASSIGNED, ticket, "x") is None
    assert told() == []
    # Oscar (partner of Globex, networking) does not see Acme's tickets
    assert not Ticket.objects.for_user(cast.other_partner).filter(pk=ticket.pk).exists()


def test_a_client_reply_tells_the_assignee_and_the_network_s_watchers(cast):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    services.set_watchers(cast.admin, ticket, [cast.desk, cast.client_admin], source="web")
    Notification.objects.all().delete()
    services.reply(cast.client_user, ticket, body_text="It is still burning.", source=Source.WEB)
    assert sorted(told()) == [
        ("dean", NotificationKind.CLIENT_REPLIED),
        ("paula", NotificationKind.CLIENT_REPLIED),
    ]
    assert "It is still burning." in Notification.objects.first().text


def test_a_reply_from_the_network_tells_nobody(cast):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    Notification.objects.all().delete()
    services.reply(cast.desk, ticket, body_text="We are on it.", source=Source.WEB)
    assert told() == []


def test_replies_within_minutes_are_one_notification_unread_again(cast):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    Notification.objects.all().delete()
    services.reply(cast.client_user, ticket, body_text="First.", source=Source.WEB)
    notifications.mark_all_read(cast.partner)
    services.reply(cast.client_user, ticket, body_text="Second.", source=Source.WEB)
    [notice] = Notification.objects.all()
    assert notice.read_at is None and "Second." in notice.text
    # past the window, a new one
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))
    services.reply(cast.client_user, ticket, body_text="Third.", source=Source.WEB)
    assert Notification.objects.count() == 2


def test_a_mention_in_a_note_tells_the_staff_member_named(cast):
    ticket = open_ticket(cast)
    services.note(
        cast.desk,
        ticket,
        body_text="@Paula can you look? cc @admin, not @olive nor @alice@acme.example or @nobody.",
        source=Source.WEB,
    )
    # Paula leads Acme and the admin sees everything; Olive has no role
    assert sorted(told()) == [
        ("admin", NotificationKind.MENTIONED),
        ("paula", NotificationKind.MENTIONED),
    ]


def test_a_mention_of_someone_who_cannot_see_the_ticket_tells_nobody(cast):
    ticket = open_ticket(cast)
    # Oscar serves Globex, Ada (an associate) sees only her own tickets, Alice is a client
    # contact, and Dean wrote the note himself
    text = "@oscar @ada @alice and @dean (me)"
    services.note(cast.desk, ticket, body_text=text, source=Source.WEB)
    assert told() == []


def test_mentions_are_read_from_words_starting_with_at(cast):
    assert notifications.mentioned_names("Hi @paula. And @Ada, mail x@y.z; (@dean)") == [
        "paula",
        "Ada",
        "dean",
    ]


def hand_over_to(cast, deputy) -> tuple[Ticket, object]:
    network.update_partner(cast.admin, cast.partner_record, {"deputy": deputy}, source=Source.CLI)
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    Notification.objects.all().delete()
    now = timezone.now()
    absence = network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="vacation",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=3),
        source=Source.CLI,
    )
    continuity.hand_over_absences()
    return ticket, absence


def test_a_hand_over_tells_the_deputy_and_the_take_back_tells_the_deputy_too(cast):
    ticket, absence = hand_over_to(cast, cast.desk_record)
    assert told() == [("dean", NotificationKind.HANDED_OVER)]
    assert "Paula Partner is away until" in Notification.objects.get().text
    continuity.take_back(cast.partner, absence, source=Source.WEB)
    # Paula took it back herself: only Dean hears of it
    assert told() == [
        ("dean", NotificationKind.HANDED_OVER),
        ("dean", NotificationKind.TAKEN_BACK),
    ]
    ticket.refresh_from_db()
    assert ticket.assignee == cast.partner_record


def test_a_deputy_who_no_longer_sees_the_ticket_is_not_told_of_the_take_back(cast):
    # An associate sees only what is assigned to her: once taken back, the ticket is gone
    # from her view, and so is any word of it.
    _, absence = hand_over_to(cast, cast.associate_record)
    assert told() == [("ada", NotificationKind.HANDED_OVER)]
    continuity.take_back(cast.partner, absence, source=Source.WEB)
    assert told() == [("ada", NotificationKind.HANDED_OVER)]


def test_marking_read_is_one_s_own_affair(cast):
    ticket = open_ticket(cast, assignee_id=cast.partner_record.pk)
    notice = Notification.objects.get()
    with pytest.raises(PermissionDenied):
        notifications.mark_read(cast.desk, notice)
    assert notifications.mark_read(cast.partner, notice).read_at is not None
    services.assign(cast.desk, ticket, cast.associate_record, source=Source.WEB)
    assert notifications.mark_all_read(cast.partner) == 0
    assert notifications.mark_all_read(cast.associate) == 1


def test_preferences_default_to_e_mail_for_all_but_take_backs(cast):
    assert notifications.email_address(cast.partner, NotificationKind.ASSIGNED) == (
        "paula@network.example"
    )
    assert notifications.email_address(cast.partner, NotificationKind.TAKEN_BACK) == ""


def test_preferences_are_saved_with_an_audit_record(cast):
    notifications.save_preferences(
        cast.partner,
        email_kinds=[NotificationKind.SLA_BREACH],
        email="pager@network.example",
        source=Source.WEB,
    )
    assert notifications.email_address(cast.partner, NotificationKind.SLA_BREACH) == (
        "pager@network.example"
    )
    assert notifications.email_address(cast.partner, NotificationKind.ASSIGNED) == ""
    entry = AuditRecord.objects.filter(action="notifications.preferences").get()
    assert entry.changes["email"] == ["", "pager@network.example"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email_kinds": ["assigned", "gossip"]}, "email_kinds"),
        ({"email_kinds": [], "email": "not an address"}, "email"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field_and_change_nothing(cast, fields, field):
    with pytest.raises(ValidationError) as refused:
        notifications.save_preferences(cast.partner, source=Source.WEB, **fields)
    assert list(refused.value.error_dict) == [field]
    assert "allowed" in refused.value.error_dict[field][0].params
    assert not NotificationPreference.objects.exists()


def test_client_contacts_have_no_preferences_to_set(cast):
    with pytest.raises(PermissionDenied):
        notifications.save_preferences(cast.client_admin, email_kinds=[], source=Source.WEB)


def test_everyone_sees_only_their_own_notifications(cast):
    open_ticket(cast, assignee_id=cast.partner_record.pk)
    assert Notification.objects.for_user(cast.partner).count() == 1
    for user in (cast.admin, cast.desk, cast.associate, cast.client_admin, cast.outsider):
        assert Notification.objects.for_user(user).count() == 0
