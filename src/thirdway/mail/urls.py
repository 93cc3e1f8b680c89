from django.urls import path

from thirdway.mail import settings_views, views

app_name = "mail"
urlpatterns = [
    path("", views.inbound_list, name="quarantine"),
    path("triage/", views.inbound_list, {"which": "triage"}, name="triage"),
    path("messages/<int:message_id>/", views.inbound_detail, name="message"),
    path("messages/<int:message_id>/raw/", views.inbound_raw, name="raw"),
    path("messages/<int:message_id>/reprocess/", views.inbound_reprocess, name="reprocess"),
    path("messages/<int:message_id>/assign/", views.inbound_assign, name="assign"),
    path("outbox/", views.outbox, name="outbox"),
    path("templates/", views.templates, name="templates"),
]

# Under /settings/: the mail room's settings pages (practice admins).
settings_patterns = [
    path("mailboxes/", settings_views.mailbox_list, name="mailboxes"),
    path("mailboxes/new/", settings_views.mailbox_new, name="mailbox_new"),
    path("mailboxes/<int:mailbox_id>/", settings_views.mailbox_edit, name="mailbox"),
    path("mailboxes/<int:mailbox_id>/test/", settings_views.mailbox_test, name="mailbox_test"),
    path("mail-domains/", settings_views.client_domains, name="domains"),
    path(
        "mail-domains/<int:domain_id>/remove/",
        settings_views.client_domain_remove,
        name="domain_remove",
    ),
]
