from django.urls import path

from thirdway.vault.views import common, credentials, documents, expirations

app_name = "vault"
urlpatterns = [
    path("", common.index, name="index"),
    path(
        "clients/<int:client_id>/credentials/", credentials.credential_list, name="credential_list"
    ),
    path(
        "clients/<int:client_id>/credentials/new/",
        credentials.credential_create,
        name="credential_create",
    ),
    path(
        "credentials/<int:credential_id>/", credentials.credential_detail, name="credential_detail"
    ),
    path(
        "credentials/<int:credential_id>/reveal/",
        credentials.credential_reveal,
        name="credential_reveal",
    ),
    path(
        "credentials/<int:credential_id>/edit/", credentials.credential_edit, name="credential_edit"
    ),
    path("clients/<int:client_id>/documents/", documents.document_list, name="document_list"),
    path(
        "clients/<int:client_id>/documents/new/", documents.document_create, name="document_create"
    ),
    path("documents/<int:document_id>/", documents.document_detail, name="document_detail"),
    path("documents/<int:document_id>/edit/", documents.document_edit, name="document_edit"),
    path(
        "documents/<int:document_id>/history/", documents.document_history, name="document_history"
    ),
    path("accessed/", credentials.accessed_report, name="accessed_report"),
    path("expirations/", expirations.expiry_overview, name="expiry_overview"),
    path("clients/<int:client_id>/expirations/", expirations.expiry_list, name="expiry_list"),
    path(
        "clients/<int:client_id>/expirations/new/", expirations.expiry_create, name="expiry_create"
    ),
    path("expirations/<int:item_id>/edit/", expirations.expiry_edit, name="expiry_edit"),
    path(
        "expirations/<int:item_id>/acknowledge/",
        expirations.expiry_acknowledge,
        name="expiry_acknowledge",
    ),
    path("expirations/<int:item_id>/snooze/", expirations.expiry_snooze, name="expiry_snooze"),
]
