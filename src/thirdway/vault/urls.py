from django.urls import path

from thirdway.vault.views import (
    common,
    credentials,
    documents,
    expirations,
    expiry_feeds,
    file_moves,
    files,
    scanning,
)

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
    path("settings/", scanning.settings_page, name="settings"),
    path("expirations/calendar/", expiry_feeds.feed_page, name="expiry_feeds"),
    path("expirations/calendar/new/", expiry_feeds.feed_reset, name="expiry_feed_reset"),
    path(
        "expirations/calendar/<int:feed_id>/stop/",
        expiry_feeds.feed_stop,
        name="expiry_feed_stop",
    ),
    path("expirations/feed/<str:token>.ics", expiry_feeds.expiry_feed, name="expiry_feed"),
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
    path("expirations/<int:item_id>/rdap/", expirations.expiry_rdap, name="expiry_rdap"),
    path("clients/<int:client_id>/files/", files.files_home, name="files_home"),
    path("clients/<int:client_id>/files/quota/", files.quota_bar, name="quota_bar"),
    # Uploads live under files/ (vault.uploads streams them through the size limit).
    path("files/folders/<int:folder_id>/", files.folder, name="folder"),
    path("files/folders/<int:folder_id>/upload/", files.upload, name="folder_upload"),
    path("files/folders/<int:folder_id>/new/", files.folder_create, name="folder_create"),
    path("files/folders/<int:folder_id>/note/", files.folder_note, name="folder_note"),
    path(
        "files/folders/<int:folder_id>/permissions/",
        files.permissions,
        name="folder_permissions",
    ),
    path("files/folders/<int:folder_id>/move/", file_moves.folder_move, name="folder_move"),
    path("files/folders/<int:folder_id>/trash/", file_moves.folder_trash, name="folder_trash"),
    path(
        "files/folders/<int:folder_id>/untrash/",
        file_moves.folder_take_back,
        name="folder_take_back",
    ),
    path("files/folders/<int:folder_id>/purge/", file_moves.folder_purge, name="folder_purge"),
    path("files/folders/<int:folder_id>/limit/", file_moves.folder_limit, name="folder_limit"),
    path("files/<int:file_id>/", files.file_detail, name="file_detail"),
    path("files/<int:file_id>/move/", file_moves.file_move, name="file_move"),
    path("files/<int:file_id>/download/", files.file_download, name="file_download"),
    path("files/<int:file_id>/version/", files.file_version, name="file_version"),
    path("files/<int:file_id>/restore/<int:number>/", files.file_restore, name="file_restore"),
    path("files/<int:file_id>/copy/", files.file_copy, name="file_copy"),
    path("files/<int:file_id>/note/", files.file_note, name="file_note"),
    path("files/<int:file_id>/expiry/", files.file_expiry, name="file_expiry"),
    path("files/<int:file_id>/trash/", files.file_trash, name="file_trash"),
    path("files/<int:file_id>/untrash/", files.file_take_back, name="file_take_back"),
    path("files/<int:file_id>/purge/", files.file_purge, name="file_purge"),
]
