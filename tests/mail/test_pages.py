"""The practice admin's mail pages: quarantine, triage, one message, outbox, templates."""

from __future__ import annotations

import pytest

from thirdway.mail import services
from thirdway.mail.models import InboundStatus, MailTemplate, OutboundMessage

from .conftest import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarantined(cast, helpdesk, settings):
    settings.MAIL_MAX_BYTES = 600
    message, _ = services.receive_and_process(
        mail(subject="Too big", body="z" * 2000), mailbox=helpdesk, source="pipe"
    )
    assert message.status == InboundStatus.QUARANTINED
    return message


def test_a_practice_admin_sees_the_quarantine_with_reasons(cast, quarantined, web_as):
    page = web_as(cast.admin).get("/mail/")
    assert page.status_code == 200
    assert b"Too big" in page.content and b"size limit" in page.content


@pytest.mark.parametrize("who", ["partner", "client_admin", "outsider", "associate"])
def test_nobody_else_sees_the_mail_pages(cast, quarantined, web_as, who):
    client = web_as(getattr(cast, who))
    for url in ("/mail/", f"/mail/messages/{quarantined.pk}/", "/mail/outbox/", "/mail/templates/"):
        assert client.get(url).status_code == 404, url
    raw = f"/mail/messages/{quarantined.pk}/raw/"
    assert client.get(raw).status_code == 404


def test_the_raw_message_downloads_exactly_as_it_arrived(cast, quarantined, web_as):
    answer = web_as(cast.admin).get(f"/mail/messages/{quarantined.pk}/raw/")
    assert answer["Content-Type"] == "message/rfc822"
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer.content == bytes(quarantined.raw)


def test_reprocess_from_the_message_page(cast, quarantined, web_as, settings):
    settings.MAIL_MAX_BYTES = 10_000_000
    client = web_as(cast.admin)
    assert b"Reprocess" in client.get(f"/mail/messages/{quarantined.pk}/").content
    client.post(f"/mail/messages/{quarantined.pk}/reprocess/")
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.TICKET


def test_the_desk_triages_mail_from_an_unknown_client(cast, helpdesk, web_as):
    message, _ = services.receive_and_process(
        mail(sender="new@startup.example"), mailbox=helpdesk, source="pipe"
    )
    client = web_as(cast.desk)
    assert b"new@startup.example" in client.get("/mail/triage/").content
    assert client.get("/mail/").status_code == 200
    answer = client.post(f"/mail/messages/{message.pk}/assign/", {"client": cast.globex.pk})
    message.refresh_from_db()
    assert answer.status_code == 302 and client.get(answer["Location"]).status_code == 200
    assert message.status == InboundStatus.TICKET and message.ticket.client == cast.globex


def test_the_outbox_shows_the_server_s_answer(cast, helpdesk, smtp_server, web_as):
    smtp_server.refuse = (550, "5.7.1 Relaying denied")
    services.receive_and_process(mail(), mailbox=helpdesk, source="pipe")
    services.send(OutboundMessage.objects.get().pk)
    page = web_as(cast.admin).get("/mail/outbox/?status=failed")
    assert b"550 5.7.1 Relaying denied" in page.content


def test_a_practice_admin_edits_a_template(cast, web_as):
    answer = web_as(cast.admin).post(
        "/mail/templates/",
        {
            "practice": cast.security.pk,
            "kind": "resolved",
            "subject": "Done: {{ subject }}",
            "body": "Closed {{ number }}",
        },
    )
    assert answer.status_code == 302
    saved = MailTemplate.objects.get()
    assert saved.practice == cast.security and saved.subject == "Done: {{ subject }}"
    broken = web_as(cast.admin).post(
        "/mail/templates/", {"kind": "resolved", "subject": "{% if %}", "body": "x"}
    )
    assert broken.status_code == 200 and b"does not compile" in broken.content
