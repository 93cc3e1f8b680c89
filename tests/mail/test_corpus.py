"""The real-world corpus (../shared/corpus/mail): bounces, broken MIME, bad charsets, endless
nesting and torture tests.  Every message is stored byte for byte and ends as a ticket, an
article, a bounce note or a quarantined message with a reason; none raises."""

from __future__ import annotations

import pytest

from thirdway.mail import services
from thirdway.mail.models import InboundMessage, InboundStatus, Mailbox

from .conftest import CORPUS

FILES = sorted(CORPUS.glob("*.eml")) if CORPUS.is_dir() else []
ENDINGS = {
    InboundStatus.TICKET,
    InboundStatus.ARTICLE,
    InboundStatus.BOUNCE,
    InboundStatus.QUARANTINED,
}


@pytest.mark.skipif(not FILES, reason=f"the mail corpus is absent ({CORPUS})")
@pytest.mark.django_db
def test_every_corpus_message_ends_somewhere_with_its_raw_bytes_kept(cast, caplog):
    box = Mailbox.objects.create(
        name="corpus", address="corpus@desk.example", default_client=cast.acme
    )
    assert len(FILES) == 48
    endings = {}
    for path in FILES:
        raw = path.read_bytes()
        message, created = services.receive_and_process(raw, mailbox=box, source="pipe")
        stored = InboundMessage.objects.get(pk=message.pk)
        if created:
            assert bytes(stored.raw) == raw, path.name
        else:  # the same Message-ID as an earlier file: that file's bytes are kept
            assert stored.message_id and stored.message_id in raw.decode("latin-1"), path.name
        assert stored.status in ENDINGS, (path.name, stored.status, stored.reason)
        assert not stored.reason.startswith("Could not be processed"), (path.name, stored.reason)
        if stored.status == InboundStatus.QUARANTINED:
            assert stored.reason, path.name
        else:
            assert stored.ticket_id and stored.article_id, path.name
        endings[path.name] = stored.status
    # Messages with the same Message-ID are one message: each file is still kept once.
    assert InboundMessage.objects.count() == len(endings) - _same_ids()
    assert endings["bounce-mailbox-full.eml"] == InboundStatus.QUARANTINED
    assert endings["text-only.eml"] in (InboundStatus.TICKET, InboundStatus.ARTICLE)


def _same_ids() -> int:
    from thirdway.mail.parsing import message_key
    from thirdway.mail.receipt import header_message_id

    keys = [message_key(header_message_id(p.read_bytes()), p.read_bytes()) for p in FILES]
    return len(keys) - len(set(keys))


@pytest.mark.skipif(not FILES, reason=f"the mail corpus is absent ({CORPUS})")
@pytest.mark.django_db
def test_a_real_bounce_about_a_message_of_ours_becomes_a_note(cast):
    from thirdway.mail.models import BouncingAddress
    from thirdway.mail.threads import remember
    from thirdway.tickets.models import Ticket

    box = Mailbox.objects.create(name="help", address="help@desk.example")
    opened, _ = services.receive_and_process(
        (CORPUS / "text-only.eml").read_bytes(), mailbox=box, source="pipe"
    )
    assert opened.status == InboundStatus.UNKNOWN_CLIENT
    ticket = services.assign_to_client(cast.admin, opened, cast.acme, source="web").ticket
    remember("4E326A95.3010907@example.com", ticket)  # as if we had sent that message
    bounce, _ = services.receive_and_process(
        (CORPUS / "bounce-mailbox-full.eml").read_bytes(), mailbox=box, source="pipe"
    )
    assert bounce.status == InboundStatus.BOUNCE
    assert bounce.ticket == Ticket.objects.get(pk=ticket.pk)
    assert "user@aol.com" in bounce.article.body_text and bounce.article.kind == "note"
    assert BouncingAddress.objects.filter(address="user@aol.com").exists()
