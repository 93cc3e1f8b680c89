"""Processing lanes: a batch of messages is split by conversation, and on PostgreSQL each lane
is processed by a process of its own; a reply always finds the ticket its conversation opened,
and nothing is processed twice."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from thirdway.mail import lanes, parsing
from thirdway.mail.models import ClientDomain, InboundMessage, InboundStatus
from thirdway.mail.receipt import header_message_id, receive_many
from thirdway.mail.services.inbound import process_many
from thirdway.tickets.models import Ticket

from .conftest import mail


def stored(raw: bytes, pk: int) -> InboundMessage:
    message_id = header_message_id(raw)
    return InboundMessage(
        pk=pk, raw=raw, message_id=message_id, message_key=parsing.message_key(message_id, raw)
    )


def reply(sender: str, parent: str, own: str, *, only_parent: bool = False) -> bytes:
    headers = {"In-Reply-To": f"<{parent}>"}
    if not only_parent:
        headers["References"] = f"<{parent}>"
    return mail(sender, "Re: the problem", "Still broken.", message_id=f"<{own}>", headers=headers)


@pytest.mark.django_db
def test_a_conversation_is_one_group_however_its_replies_point_back(cast):
    batch = [
        mail("a@acme.example", "Printer", message_id="<a@acme.example>"),
        reply("b@acme.example", "a@acme.example", "b@acme.example"),
        reply("c@acme.example", "b@acme.example", "c@acme.example", only_parent=True),
        mail("d@acme.example", "Phones", message_id="<d@acme.example>"),
        mail("e@acme.example", "More on [TW-10042]", message_id="<e@acme.example>"),
        mail("f@acme.example", "Re: [TW-10042] done?", message_id="<f@acme.example>"),
        mail(
            "g@acme.example",
            "Reply to something older",
            message_id="<g@acme.example>",
            headers={"References": "<long-ago@acme.example>"},
        ),
    ]
    batch += [  # a new sender's messages go together (the first makes the contact); a contact's not
        mail("new@acme.example", "One thing", message_id="<h@acme.example>"),
        mail("new@acme.example", "Another", message_id="<i@acme.example>"),
        mail("alice@acme.example", "One thing", message_id="<j@acme.example>"),
        mail("Alice@Acme.example", "Another", message_id="<k@acme.example>"),
    ]
    messages = [stored(raw, pk) for pk, raw in enumerate(batch, start=1)]
    groups = [[message.pk for message in group] for group in lanes.conversations(messages)]
    assert sorted(groups) == [[1, 2, 3], [4], [5, 6], [7], [8, 9], [10], [11]]


@pytest.mark.django_db
def test_lanes_take_whole_conversations_and_keep_their_order(cast):
    batch = [mail(message_id=f"<t{n}@acme.example>") for n in range(6)]
    batch += [
        reply("alice@acme.example", "t0@acme.example", f"r{n}@acme.example") for n in range(4)
    ]
    messages = [stored(raw, pk) for pk, raw in enumerate(batch, start=1)]
    split = lanes.lanes(messages, 2)
    assert sorted(len(lane) for lane in split) == [5, 5]
    [with_thread] = [lane for lane in split if 1 in [m.pk for m in lane]]
    assert [m.pk for m in with_thread] == [1, 7, 8, 9, 10]  # the thread whole, in arrival order
    assert lanes.lanes(messages[:1], 3) == [messages[:1]]


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_processed_once_in_lanes_as_it_would_be_one_at_a_time(
    cast, helpdesk, settings, caplog
):
    """Twelve conversations in one batch, each a new message and three replies (some naming only
    their parent); four senders the desk has never seen open two conversations each.  On
    PostgreSQL two processes share them."""
    settings.MAIL_PROCESSES = 2
    ClientDomain.objects.create(domain="newco.example", client=cast.acme)
    batch, threads = [], {}
    for n in range(12):
        opener, sender = f"open-{n}@newco.example", f"new{n % 6}@newco.example"
        if n % 6 >= 4:
            sender = "alice@acme.example"  # a contact already
        batch.append(mail(sender, f"Problem {n}", message_id=f"<{opener}>"))
        parent = opener
        for turn in range(3):
            own = f"reply-{n}-{turn}@newco.example"
            writer = "alice@acme.example" if turn == 1 else sender
            batch.append(reply(writer, parent, own, only_parent=turn == 2))
            threads[own], parent = opener, own
    received = [m for m, created in receive_many(batch, mailbox=helpdesk, source="pipe")]
    with caplog.at_level(logging.INFO, logger="thirdway.mail.lanes"):
        process_many(received)
    if connection.vendor == "postgresql":
        assert "processed 48 messages in 2 lanes" in caplog.text
    else:  # SQLite writes one transaction at a time: no lanes
        assert "lanes" not in caplog.text

    messages = {m.message_id: m for m in InboundMessage.objects.defer("raw")}
    assert [m.reason for m in messages.values() if m.status == InboundStatus.QUARANTINED] == []
    assert {m.status for m in messages.values()} == {InboundStatus.TICKET, InboundStatus.ARTICLE}
    assert {m.attempts for m in messages.values()} == {1}
    assert Ticket.objects.count() == 12
    for own, opener in threads.items():
        assert messages[own].status == InboundStatus.ARTICLE
        assert messages[own].ticket_id == messages[opener].ticket_id
    by_ticket: dict[int, list[InboundMessage]] = {}
    for message in messages.values():
        by_ticket.setdefault(message.ticket_id, []).append(message)
    for conversation in by_ticket.values():  # written in the order the messages came
        written = sorted(conversation, key=lambda message: message.article_id)
        assert [m.pk for m in written] == sorted(m.pk for m in conversation)
    assert len({m.article_id for m in messages.values()}) == 48
    assert cast.acme.contacts.filter(email__endswith="@newco.example").count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_poller_ends_a_batchs_lanes_before_the_next_batch_is_processed(
    cast, empty_inbox, settings, monkeypatch, caplog
):
    """Forty new messages, then a reply to each: the replies come in later batches than what
    they answer, whose lanes may still be at work while they are fetched."""
    from thirdway.mail import fetching

    settings.MAIL_PROCESSES = 2
    monkeypatch.setattr(fetching, "BATCH", 30)
    for n in range(40):
        empty_inbox.append(mail(subject=f"Problem {n}", message_id=f"<p{n}@acme.example>"))
    for n in range(40):
        empty_inbox.append(reply("alice@acme.example", f"p{n}@acme.example", f"r{n}@acme.example"))
    box = empty_inbox.mailbox()
    with caplog.at_level(logging.INFO, logger="thirdway.mail.lanes"):
        assert fetching.poll(box)["new"] == 80
    if connection.vendor == "postgresql":
        assert caplog.text.count("messages in 2 lanes") == 3  # batches of 30, 30 and 20
    rows = {m.message_id: m for m in InboundMessage.objects.defer("raw")}
    assert Ticket.objects.count() == 40
    for n in range(40):
        answer, question = rows[f"r{n}@acme.example"], rows[f"p{n}@acme.example"]
        assert (answer.status, answer.ticket_id) == (InboundStatus.ARTICLE, question.ticket_id)


@pytest.mark.django_db(transaction=True)
def test_contacts_writing_for_the_first_time_get_one_sign_in_each(cast, helpdesk, settings):
    """Their messages are spread over both lanes; each contact's first message gives them a
    sign-in, which must be one account however the lanes meet."""
    from thirdway.accounts.models import User
    from thirdway.clients import services as clients

    settings.MAIL_PROCESSES = 2
    people = [
        clients.create_contact(
            cast.admin,
            cast.acme,
            name=f"First Timer {n}",
            email=f"first{n}@acme.example",
            source="cli",
        )
        for n in range(3)
    ]
    assert all(person.user_id is None for person in people)
    batch = [
        mail(f"first{n % 3}@acme.example", f"Question {n}", message_id=f"<q{n}@acme.example>")
        for n in range(30)
    ]
    process_many([m for m, created in receive_many(batch, mailbox=helpdesk, source="pipe")])
    for person in people:
        person.refresh_from_db()
        assert person.user is not None
        assert User.objects.filter(email__iexact=person.email).count() == 1
        tickets = Ticket.objects.filter(requester=person)
        assert tickets.count() == 10
        assert set(tickets.values_list("articles__author", flat=True)) == {person.user_id}
