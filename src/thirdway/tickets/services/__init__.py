"""Every change to tickets (the only writers): create, reply, note, assign, status, priority,
merge, split, link and bulk update.  Each records an audit entry and, where people should see
it, a system event on the ticket's timeline.
"""

from thirdway.tickets.assignment.arrival import dispatch_when_committed
from thirdway.tickets.services._shared import (
    ACTIVE_CONTENT,
    TICKET_FIELDS,
    AttachmentTooLarge,
    Upload,
    resolve_assignee,
    resolve_practice,
)
from thirdway.tickets.services.canned import (
    create_canned_reply,
    delete_canned_reply,
    update_canned_reply,
)
from thirdway.tickets.services.conversation import correct_time, note, reply
from thirdway.tickets.services.opening import (
    check_upload_size,
    create_ticket,
    sniff_type,
    store_attachment,
)
from thirdway.tickets.services.relations import link, link_children, merge, split, unlink
from thirdway.tickets.services.saved_views import delete_view, save_view
from thirdway.tickets.services.workflow import (
    TICKET_UPDATABLE,
    BulkResult,
    assign,
    bulk_update,
    change_priority,
    change_status,
    set_watchers,
    update_ticket,
)

__all__ = [
    "ACTIVE_CONTENT",
    "TICKET_FIELDS",
    "TICKET_UPDATABLE",
    "AttachmentTooLarge",
    "BulkResult",
    "Upload",
    "assign",
    "bulk_update",
    "change_priority",
    "change_status",
    "check_upload_size",
    "correct_time",
    "create_canned_reply",
    "create_ticket",
    "delete_canned_reply",
    "delete_view",
    "dispatch_when_committed",
    "link",
    "link_children",
    "merge",
    "note",
    "reply",
    "resolve_assignee",
    "resolve_practice",
    "save_view",
    "set_watchers",
    "sniff_type",
    "split",
    "store_attachment",
    "unlink",
    "update_canned_reply",
    "update_ticket",
]
