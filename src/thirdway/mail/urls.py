from django.urls import path

from thirdway.mail import views

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
