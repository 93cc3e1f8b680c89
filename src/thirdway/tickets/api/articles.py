"""API of a ticket's timeline and files."""

from typing import Literal

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Status, UploadedFile
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.payloads import MAX_BODY, Page
from thirdway.tickets import event_texts, services
from thirdway.tickets.api.finding import _fresh_article, _ticket
from thirdway.tickets.api.schemas import ArticleOut
from thirdway.tickets.idempotency import idempotent
from thirdway.tickets.models import Article, Attachment, Channel

router = Router()


@router.get("/tickets/{int:ticket_id}/articles", response=list[ArticleOut])
@paginate(Page)
def list_articles(request, ticket_id: int):
    """The timeline, oldest first: replies for contacts; notes and events too for the network."""
    ticket = _ticket(request, ticket_id)
    articles = (
        Article.objects.for_user(request.auth)
        .filter(ticket=ticket)
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    # Events about a ticket the caller may not see name no number and no id.
    return event_texts.ReaderTimeline(request.auth, articles)


@router.post("/tickets/{int:ticket_id}/attachments", response={201: ArticleOut})
@idempotent
def upload(
    request,
    ticket_id: int,
    files: File[list[UploadedFile]],
    kind: Form[Literal["reply", "note"]] = "reply",
    body_text: str = Form("", max_length=MAX_BODY),
    body_html: str = Form("", max_length=MAX_BODY),
):
    """Files sent as multipart ``files``, carried by a new reply (or note, for the network)
    with an optional message.  A file over the size limit is a 413 and nothing is stored."""
    ticket = _ticket(request, ticket_id)
    for upload in files:
        services.check_upload_size(upload.size)
    uploads = [services.Upload(upload.name or "file", upload.read()) for upload in files]
    if kind == "note":
        article = services.note(
            request.auth,
            ticket,
            body_html=body_html or None,
            body_text=body_text,
            uploads=uploads,
            source=Source.API,
        )
    else:
        article = services.reply(
            request.auth,
            ticket,
            body_html=body_html or None,
            body_text=body_text,
            uploads=uploads,
            channel=Channel.API,
            source=Source.API,
        )
    return Status(201, _fresh_article(article.pk))


@router.get("/tickets/attachments/{int:attachment_id}", url_name="ticket_attachment")
def download(request, attachment_id: int):
    """The file, always as a download, if the caller sees the article that carries it."""
    attachment = get_object_or_404(Attachment.objects.for_user(request.auth), pk=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
