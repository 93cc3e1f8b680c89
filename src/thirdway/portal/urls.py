from django.urls import path

from thirdway.portal import invoice_views, views

app_name = "portal"
urlpatterns = [
    path("", views.ticket_list, name="home"),
    path("login/", views.sign_in, name="login"),
    path("login/link/", views.request_link, name="request_link"),
    path("login/link/sent/", views.link_sent, name="link_sent"),
    path("login/link/<str:token>/", views.use_link, name="link"),
    path("new/", views.ticket_new, name="new"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<int:ticket_id>/close/", views.ticket_close, name="close"),
    path("invoices/", invoice_views.invoice_list, name="invoices"),
    path(
        "invoices/<int:invoice_id>/<str:kind>/",
        invoice_views.invoice_document,
        name="invoice_document",
    ),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
