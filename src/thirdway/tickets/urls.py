from django.urls import path, re_path, register_converter

from thirdway.tickets import views


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
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk_update, name="bulk"),
    path("views/", views.saved_view_save, name="view_save"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="view_delete"),
    re_path(r"^search/?$", views.search, name="search"),
    path("new/", views.ticket_create, name="create"),
    path("handovers/", views.handovers, name="handovers"),
    path("handovers/<int:absence_id>/take-back/", views.take_back, name="take_back"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<ticketref:ref>/", views.ticket_detail, name="detail"),
    path("<ticketref:ref>/reply/", views.reply, name="reply"),
    path("<ticketref:ref>/assign/", views.assign, name="assign"),
    path("<ticketref:ref>/suggest/", views.suggest, name="suggest"),
    path("<ticketref:ref>/status/", views.change_status, name="status"),
    path("<ticketref:ref>/priority/", views.change_priority, name="priority"),
    path("<ticketref:ref>/merge/", views.merge, name="merge"),
    path("<ticketref:ref>/split/", views.split, name="split"),
    path("<ticketref:ref>/link/", views.link, name="link"),
]
