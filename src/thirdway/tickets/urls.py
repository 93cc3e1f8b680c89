from django.urls import path, re_path, register_converter

from thirdway.tickets.views import (
    attachments,
    canned,
    dispatch_settings,
    fields,
    handovers,
    new_ticket,
    offers,
    pickers,
    queues,
    surge,
    ticket,
    webhooks,
)


class TicketRef:
    """``TW-10234`` (a ticket's number) or a bare id."""

    regex = r"(?:[Tt][Ww]-)?[0-9]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(TicketRef, "ticketref")

app_name = "tickets"
urlpatterns = [
    path("", queues.queue, name="queue"),
    path("bulk/", queues.bulk_update, name="bulk"),
    path("take-next/", queues.take_next, name="take_next"),
    path("views/", queues.saved_view_save, name="view_save"),
    path("views/<int:view_id>/delete/", queues.saved_view_delete, name="view_delete"),
    re_path(r"^search/?$", queues.search, name="search"),
    path("new/", new_ticket.ticket_create, name="create"),
    path("pick/<slug:kind>/", pickers.pick, name="pick"),
    path("handovers/", handovers.handovers, name="handovers"),
    path("offers/", offers.offer_list, name="offers"),
    path("surge/", surge.surge_panel, name="surge"),
    path("offers/<int:offer_id>/accept/", offers.offer_accept, name="offer_accept"),
    path("offers/<int:offer_id>/decline/", offers.offer_decline, name="offer_decline"),
    path("handovers/<int:absence_id>/take-back/", handovers.take_back, name="take_back"),
    path("attachments/<int:attachment_id>/", attachments.attachment_download, name="attachment"),
    path("<ticketref:ref>/", ticket.ticket_detail, name="detail"),
    path("<ticketref:ref>/reply/", ticket.reply, name="reply"),
    path("<ticketref:ref>/assign/", ticket.assign, name="assign"),
    path("<ticketref:ref>/suggest/", ticket.suggest, name="suggest"),
    path("<ticketref:ref>/status/", ticket.change_status, name="status"),
    path("<ticketref:ref>/priority/", ticket.change_priority, name="priority"),
    path("<ticketref:ref>/merge/", ticket.merge, name="merge"),
    path("<ticketref:ref>/split/", ticket.split, name="split"),
    path("<ticketref:ref>/link/", ticket.link, name="link"),
    path("<ticketref:ref>/incident/unlink/", ticket.unlink_incident, name="unlink_incident"),
    path("<ticketref:ref>/edit/<str:name>/", fields.edit_field, name="field"),
]

# Under /settings/: the tickets room's settings pages.
settings_patterns = [
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/new/", webhooks.webhook_new, name="webhook_new"),
    path("webhooks/<int:webhook_id>/", webhooks.webhook_edit, name="webhook"),
    path("webhooks/<int:webhook_id>/test/", webhooks.webhook_test, name="webhook_test"),
    path("webhooks/<int:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("canned-replies/", canned.canned_list, name="canned"),
    path("canned-replies/<int:reply_id>/", canned.canned_edit, name="canned_edit"),
    path("canned-replies/<int:reply_id>/delete/", canned.canned_delete, name="canned_delete"),
    path("dispatch/", dispatch_settings.dispatch_list, name="dispatch"),
    path("dispatch/<int:practice_id>/", dispatch_settings.dispatch_edit, name="dispatch_edit"),
]
