"""Mail from real-world mailers: undeclared 8-bit headers, and a client's colleague answering
on its ticket."""

from __future__ import annotations

import pytest

from thirdway.audit.models import AuditRecord
from thirdway.clients.models import Contact
from thirdway.environment import Environment, SettingError
from thirdway.mail import parsing, services
from thirdway.mail.models import InboundMessage, InboundSource, InboundStatus

from .conftest import mail

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, mailbox=None) -> InboundMessage:
    message, _ = services.receive_and_process(raw, mailbox=mailbox, source=InboundSource.PIPE)
    return message


def undeclared(subject: bytes, sender: bytes = b"Ivan <ivan@acme.example>") -> bytes:
    return (
        b"From: " + sender + b"\r\nTo: help@desk.example\r\nSubject: " + subject + b"\r\n"
        b"Message-ID: <8bit@acme.example>\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    )


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Принтер в бухгалтерии горит", "koi8-r"),
        ("Принтер не работает", "cp1251"),
        ("Café au bureau: l'imprimante brûle", "cp1252"),
        ("Grüße aus Zürich", "utf-8"),
    ],
)
def test_an_undeclared_8_bit_subject_is_read_in_its_encoding(text, encoding):
    parsed = parsing.parse(undeclared(text.encode(encoding)))
    assert parsed.subject == text
    assert "\ufffd" not in parsed.subject


def test_an_undeclared_8_bit_display_name_is_read_too():
    parsed = parsing.parse(undeclared(b"Hi", sender="Иван <ivan@acme.example>".encode("koi8-r")))
    assert (parsed.from_name, parsed.from_address) == ("Иван", "ivan@acme.example")


def test_the_encodings_tried_come_from_the_setting(monkeypatch):
    raw = undeclared("Принтер в бухгалтерии горит".encode("koi8-r"))
    monkeypatch.setattr(parsing, "HEADER_CHARSETS", ("utf-8", "cp1252"))
    # Windows-1252 reads any byte, but not as text: refused, and detection has the last word.
    assert parsing.parse(raw).subject != "ðÒÉÎÔÅÒ × ÂÕÈÇÁÌÔÅÒÉÉ ÇÏÒÉÔ"
    monkeypatch.setattr(parsing, "HEADER_CHARSETS", ("utf-8", "koi8-r"))
    assert parsing.parse(raw).subject == "Принтер в бухгалтерии горит"


def test_detection_reads_what_no_listed_encoding_does(monkeypatch):
    monkeypatch.setattr(parsing, "HEADER_CHARSETS", ("utf-8",))
    text = "Αποστολή τιμολογίου για τον εκτυπωτή"
    assert parsing.parse(undeclared(text.encode("iso-8859-7"))).subject == text


def test_raw_8_bit_text_next_to_encoded_words_reads_both():
    parsed = parsing.parse(undeclared("Привет".encode("koi8-r") + b" =?utf-8?q?caf=C3=A9?="))
    assert parsed.subject == "Привет café"


def test_the_setting_is_a_list_of_known_encodings():
    env = Environment({"THIRDWAY_MAIL_HEADER_CHARSETS": "utf-8, koi8-r"})
    assert env.encodings("THIRDWAY_MAIL_HEADER_CHARSETS", ["utf-8"]) == ["utf-8", "koi8-r"]
    with pytest.raises(SettingError, match="klingon"):
        Environment({"X": "utf-8,klingon"}).encodings("X", ["utf-8"])


def test_the_message_is_stored_as_it_arrived_and_its_subject_read(cast, helpdesk):
    raw = undeclared("Принтер в бухгалтерии горит".encode("koi8-r"), b"alice@acme.example")
    message = ingest(raw, helpdesk)
    assert message.status == InboundStatus.TICKET
    assert message.ticket.subject == "Принтер в бухгалтерии горит"
    assert bytes(InboundMessage.objects.get(pk=message.pk).raw) == raw


# --- a colleague answering ---------------------------------------------------------------------


@pytest.fixture
def acme_ticket(cast, helpdesk):
    services.set_client_domain(cast.admin, cast.acme, "acme.example", source="cli")
    first = ingest(mail(message_id="<open@acme.example>"), helpdesk)
    assert first.status == InboundStatus.TICKET
    return first.ticket


def test_a_colleague_at_the_client_s_domain_answering_becomes_its_contact(
    cast, helpdesk, acme_ticket
):
    answer = mail(
        sender="Carla Crumb <carla@acme.example>",
        subject="Re: Printer on fire",
        body="I am Alice's colleague: it is still burning.",
        headers={"In-Reply-To": "<open@acme.example>"},
    )
    message = ingest(answer, helpdesk)
    assert message.status == InboundStatus.ARTICLE, message.reason
    assert message.ticket == acme_ticket
    contact = Contact.objects.get(email="carla@acme.example")
    assert contact.client == cast.acme and contact.name == "Carla Crumb"
    assert message.article.author == contact.user
    created = AuditRecord.objects.get(action="contact.create", object_id=str(contact.pk))
    assert created.scope == f"client:{cast.acme.pk}"


def test_a_stranger_answering_stays_quarantined(cast, helpdesk, acme_ticket):
    answer = mail(
        sender="mallory@elsewhere.example",
        subject=f"Re: [{acme_ticket.number}]",
        body="Let me in",
    )
    message = ingest(answer, helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert not Contact.objects.filter(email="mallory@elsewhere.example").exists()


def test_a_sender_at_another_client_s_domain_stays_quarantined(cast, helpdesk, acme_ticket):
    services.set_client_domain(cast.admin, cast.globex, "globex.example", source="cli")
    answer = mail(sender="new@globex.example", subject=f"Re: [{acme_ticket.number}]")
    message = ingest(answer, helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    assert not Contact.objects.filter(email="new@globex.example").exists()


def test_a_deactivated_contact_is_not_brought_back_by_answering(cast, helpdesk, acme_ticket):
    from thirdway.clients import services as clients

    clients.update_contact(cast.admin, cast.acme_user_contact, {"is_active": False}, source="cli")
    answer = mail(sender="bob@acme.example", subject=f"Re: [{acme_ticket.number}]")
    message = ingest(answer, helpdesk)
    assert message.status == InboundStatus.QUARANTINED
    cast.acme_user_contact.refresh_from_db()
    assert not cast.acme_user_contact.is_active
