"""What the service desk's API reads and answers: payload and answer schemas, and the
names its fields accept."""

import datetime as dt
import html
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import AfterValidator

from thirdway.payloads import MAX_BODY, MAX_REASON, Id, Moment, Payload, kept
from thirdway.tickets import event_texts
from thirdway.tickets.lifecycle import Status as TicketStatus
from thirdway.tickets.models import (
    MAX_TAGS,
    TAG_LENGTH,
    Article,
    Attachment,
    Ticket,
    TicketLink,
    number_of,
)

StatusName = Literal[tuple(status.value for status in TicketStatus)]
# A status filter also takes ``open``: every status but resolved and closed.
StatusFilterName = Literal[("open", *(status.value for status in TicketStatus))]
# ``breached``: the next SLA deadline has passed; ``soon``: it falls within four hours.
SlaName = Literal["breached", "soon"]
TypeName = Literal["incident", "service_request", "change", "problem", "alert", "maintenance"]
WorkTypeName = Literal["remote", "onsite", "travel"]
LinkKindName = Literal["related", "duplicate", "parent"]
SortName = Literal[
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "priority",
    "-priority",
    "number",
    "sla_due_at",
]


def _decoded(text: str) -> str:
    """Character references decoded until none are left, so that markup hidden in them
    (``&lt;script&gt;``) reaches the services' cleaning as markup and is stripped as such."""
    while (decoded := html.unescape(text)) != text:
        text = decoded
    return text


# Filters of the ticket list: each status (or ``open``) or priority at most once.
MAX_STATUSES = len(TicketStatus) + 1
Priority = Annotated[int, Field(ge=1, le=4)]


# A one-line text field (subject, category, reason): the services strip any markup from it.
# Each is as long as its column at most (a subject 250 characters, a category 100).
Subject = Annotated[str, Field(max_length=250), AfterValidator(_decoded)]
Category = Annotated[str, Field(max_length=100), AfterValidator(_decoded)]
Reason = Annotated[str, Field(max_length=MAX_REASON), AfterValidator(_decoded)]
# A ticket's description or an article, as HTML or plain text.
Body = Annotated[str, Field(max_length=MAX_BODY)]
# A free reason given with an act.
ActReason = Annotated[str, Field(max_length=MAX_REASON)]
# A tag as sent; the services hold tags to MAX_TAGS per ticket of TAG_LENGTH characters.
TagName = Annotated[str, Field(max_length=TAG_LENGTH), AfterValidator(_decoded)]
Tags = Annotated[list[TagName], Field(max_length=MAX_TAGS)]
# Articles one split may move to the new ticket.
MAX_SPLIT = 200


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    status_label: str
    type: str
    category: str
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    channel: str
    client_id: int
    client_name: str
    requester_id: int | None
    requester_name: str | None
    site_id: int | None
    asset_id: int | None
    practice_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    needs_onsite: bool
    visit_starts_at: dt.datetime | None
    visit_ends_at: dt.datetime | None
    tags: list[str]
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    next_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    sla_due_at: dt.datetime | None

    @staticmethod
    def resolve_status_label(obj: Ticket) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_merged_into_id(obj: Ticket, context: dict) -> int | None:
        # The id would tell the number of a ticket the caller may not see (event_texts).
        request = (context or {}).get("request")
        return event_texts.seen_merge_target(getattr(request, "auth", None), obj)

    @staticmethod
    def resolve_client_name(obj: Ticket) -> str:
        return obj.client.name

    @staticmethod
    def resolve_requester_name(obj: Ticket) -> str | None:
        return obj.requester.name if obj.requester_id else None

    @staticmethod
    def resolve_assignee_name(obj: Ticket) -> str | None:
        return obj.assignee.name if obj.assignee_id else None

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class LinkOut(Schema):
    id: int
    kind: str
    source_id: int
    source_number: str
    target_id: int
    target_number: str

    @staticmethod
    def resolve_source_number(obj: TicketLink) -> str:
        return number_of(obj.source_id)

    @staticmethod
    def resolve_target_number(obj: TicketLink) -> str:
        return number_of(obj.target_id)


class TicketDetailOut(TicketOut):
    links: list[LinkOut]

    @staticmethod
    def resolve_links(obj: Ticket) -> list[TicketLink]:
        return getattr(obj, "visible_links", [])


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return reverse("api:ticket_attachment", kwargs={"attachment_id": obj.pk})


class ArticleOut(Schema):
    id: int
    ticket_id: int
    kind: str
    author_label: str
    body_html: str
    body_text: str
    event: str
    data: dict
    channel: str
    time_spent_minutes: int
    work_type: str
    billable: bool
    created_at: dt.datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj: Article) -> list[Attachment]:
        return list(obj.attachments.all())


class TicketIn(Payload, extra="forbid"):
    client: Id | None = Field(None, description="Required for the network; a contact's own.")
    subject: Subject
    body_html: Body | None = None
    body_text: Body | None = None
    requester: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    practice: Id | None = None
    assignee: Id | None = None
    category: Category = ""
    type: TypeName = "incident"
    impact: int = Field(2, ge=1, le=3)
    urgency: int = Field(2, ge=1, le=3)
    priority: int | None = Field(None, ge=1, le=4)
    priority_reason: Reason = ""
    needs_onsite: bool = False
    visit_starts_at: Moment | None = None
    visit_ends_at: Moment | None = None
    tags: Tags = []


class TicketPatch(Payload, extra="forbid"):
    subject: Subject = kept()
    category: Category = kept()
    type: TypeName = kept()
    practice: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    requester: Id | None = None
    needs_onsite: bool = kept()
    visit_starts_at: Moment | None = None
    visit_ends_at: Moment | None = None
    tags: Tags = kept()


NOT_NULL = ("subject", "category", "type", "needs_onsite", "tags")


class ArticleIn(Payload, extra="forbid"):
    body_html: Body | None = None
    body_text: Body | None = None
    time_spent_minutes: int = Field(0, ge=0, le=1440)
    work_type: WorkTypeName = Field("remote", description="What the time was spent on.")
    billable: bool = Field(True, description="Whether the time is billed to the client.")


class StatusIn(Payload, extra="forbid"):
    status: str = Field(max_length=30)
    reason: ActReason = ""
    force: bool = False


class AssignIn(Payload, extra="forbid"):
    partner: Id | None
    reason: ActReason = ""


class PriorityIn(Payload, extra="forbid"):
    priority: int | None = Field(None, ge=1, le=4)
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    reason: ActReason = ""


class MergeIn(Payload, extra="forbid"):
    into: Id


class SplitIn(Payload, extra="forbid"):
    articles: list[Id] = Field(min_length=1, max_length=MAX_SPLIT)
    subject: Subject = ""


class LinkIn(Payload, extra="forbid"):
    target: Id
    kind: LinkKindName = "related"


class BulkIn(Payload, extra="forbid"):
    tickets: list[Id] = Field(min_length=1, max_length=200)
    status: str | None = Field(None, max_length=30)
    assignee: Id | None = None
    unassign: bool = False
    priority: int | None = Field(None, ge=1, le=4)
    reason: ActReason = ""
    add_tags: Tags = []


class Refusal(Schema):
    id: int
    reason: str


class BulkOut(Schema):
    updated: list[int]
    refused: list[Refusal]


class HitOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    snippet: str
