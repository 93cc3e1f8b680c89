"""API of the mail room: a raw message in (for mail servers and relays), quarantine and outbox
out, for practice admins.  A token of a practice admin is required; anyone else gets a 403 on
intake and empty lists."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.errors import invalid
from thirdway.mail import services
from thirdway.mail.access import is_mail_admin
from thirdway.mail.models import InboundMessage, InboundSource, Mailbox, OutboundMessage
from thirdway.payloads import Page

router = Router()
# A mailbox's name, and a status of the outbox, as long as their columns at most.
MAILBOX = Query(None, max_length=50)
OUTBOX_STATUS = Query(None, max_length=20)


class InboundOut(Schema):
    id: int
    status: str
    reason: str
    mailbox_name: str
    message_id: str
    from_address: str
    subject: str
    size: int
    ticket_id: int | None
    article_id: int | None


class IntakeOut(InboundOut):
    duplicate: bool


class OutboundOut(Schema):
    id: int
    kind: str
    to_address: str
    subject: str
    status: str
    attempts: int
    last_error: str
    ticket_id: int | None


@router.post("/mail/inbound", response={201: IntakeOut, 200: IntakeOut})
def post_inbound(request: HttpRequest, mailbox: str | None = MAILBOX):
    """Take one raw RFC 822 message as the request body (``Content-Type: message/rfc822``).

    201 when it is new, 200 when this mailbox already had it (same Message-ID): posting twice
    is safe.  The answer says what it became (ticket, article, quarantined...).
    """
    if not is_mail_admin(request.user):
        raise PermissionDenied("Only a practice admin's token may post mail.")
    box = None
    if mailbox:
        box = Mailbox.objects.filter(name=mailbox).first()
        if box is None:
            known = ", ".join(Mailbox.objects.values_list("name", flat=True)) or "none"
            raise invalid("mailbox", f"No mailbox {mailbox!r}.", f"one of: {known}")
    raw = request.body
    if not raw.strip():
        raise invalid("body", "The body is empty.", "one RFC 822 message as raw bytes")
    if len(raw) > settings.MAIL_MAX_BYTES * 2:
        raise invalid(
            "body", f"{len(raw)} bytes is far over the limit.", "a message of 25 MB or less"
        )
    message, created = services.receive_and_process(raw, mailbox=box, source=InboundSource.HTTP)
    out = _inbound(message) | {"duplicate": not created}
    return Status(201 if created else 200, out)


def _inbound(message: InboundMessage) -> dict:
    return {
        name: getattr(message, name)
        for name in (
            "id",
            "status",
            "reason",
            "mailbox_name",
            "message_id",
            "from_address",
            "subject",
            "size",
            "ticket_id",
            "article_id",
        )
    }


@router.get("/mail/quarantine", response=list[InboundOut])
@paginate(Page)
def list_quarantine(request: HttpRequest):
    return (
        InboundMessage.objects.for_user(request.user)
        .filter(status__in=["quarantined", "unknown_client"])
        .defer("raw")
    )


@router.post("/mail/messages/{message_id}/reprocess", response=InboundOut)
def reprocess(request: HttpRequest, message_id: int):
    message = get_object_or_404(InboundMessage.objects.for_user(request.user), pk=message_id)
    return _inbound(services.reprocess(request.user, message, source=Source.API))


@router.get("/mail/outbox", response=list[OutboundOut])
@paginate(Page)
def list_outbox(request: HttpRequest, status: str | None = OUTBOX_STATUS):
    found = OutboundMessage.objects.for_user(request.user).defer("raw")
    return found.filter(status=status) if status else found
