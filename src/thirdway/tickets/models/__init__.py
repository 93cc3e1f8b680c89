"""Tickets and what hangs off them: articles, attachments, links, tags, saved views, webhooks.

Every model of the room is imported here, so Django registers it under the ``tickets`` app and
``from thirdway.tickets.models import Ticket`` works wherever the model itself lives.
"""

from thirdway.tickets.assignment.models import (
    DispatchKind,
    DispatchOffer,
    DispatchRecord,
    Handover,
    IncidentLink,
    OfferState,
    PracticeDispatch,
    SurgeHold,
)
from thirdway.tickets.models.desk import CannedReply, SavedView
from thirdway.tickets.models.idempotency import IdempotentRequest
from thirdway.tickets.models.links import LinkKind, TicketLink
from thirdway.tickets.models.ticket import (
    MAX_TAGS,
    TAG_LENGTH,
    Channel,
    Tag,
    Ticket,
    TicketType,
    number_of,
    pk_of_number,
)
from thirdway.tickets.models.timeline import (
    Article,
    ArticleKind,
    Attachment,
    WorkType,
    attachment_path,
)
from thirdway.tickets.notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
)
from thirdway.tickets.sla_clocks.models import ClockFailure, ClockPause, SlaEscalation
from thirdway.tickets.webhooks.models import (
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookFormat,
)

__all__ = [
    "MAX_TAGS",
    "TAG_LENGTH",
    "Article",
    "ArticleKind",
    "Attachment",
    "CannedReply",
    "Channel",
    "ClockFailure",
    "ClockPause",
    "DeliveryStatus",
    "DispatchKind",
    "DispatchOffer",
    "DispatchRecord",
    "Handover",
    "IdempotentRequest",
    "IncidentLink",
    "LinkKind",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "OfferState",
    "PracticeDispatch",
    "SavedView",
    "SlaEscalation",
    "SurgeHold",
    "Tag",
    "Ticket",
    "TicketLink",
    "TicketType",
    "Webhook",
    "WebhookDelivery",
    "WebhookFormat",
    "WorkType",
    "attachment_path",
    "number_of",
    "pk_of_number",
]
