from django.urls import path

from thirdway.billing import document_views, export_views, terms_views, views, week_views

app_name = "billing"
urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/<str:act>/", views.invoice_act, name="invoice_act"),
    path(
        "invoices/<int:invoice_id>/documents/<str:kind>/",
        document_views.invoice_document,
        name="invoice_document",
    ),
    path("invoices/<int:invoice_id>/lines/new/", views.line_add, name="invoice_line_add"),
    path(
        "invoices/<int:invoice_id>/lines/<int:line_id>/remove/",
        views.line_remove,
        name="invoice_line_remove",
    ),
    path("run/", views.invoice_run, name="run"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:contract_id>/lines/new/", views.line_form, name="line_create"),
    path(
        "contracts/<int:contract_id>/lines/<int:line_id>/edit/",
        views.line_form,
        name="line_edit",
    ),
    path(
        "contracts/<int:contract_id>/lines/<int:line_id>/change/",
        terms_views.line_change,
        name="line_change",
    ),
    path("contracts/<int:contract_id>/renew/", terms_views.contract_renew, name="contract_renew"),
    path("clients/<int:client_id>/details/", terms_views.billing_details, name="billing_details"),
    path("time/", views.time_list, name="time_list"),
    path("time/new/", views.time_create, name="time_create"),
    path("week/", week_views.my_week, name="my_week"),
    path("weeks/", week_views.week_queue, name="week_queue"),
    path("weeks/<int:sheet_id>/", week_views.week_detail, name="week_detail"),
    path("weeks/<int:sheet_id>/<str:act>/", week_views.week_act, name="week_act"),
    path("time/<int:entry_id>/correct/", week_views.time_correct, name="time_correct"),
    path("contracts/<int:contract_id>/top-up/", week_views.block_top_up, name="block_top_up"),
    path("billed-vs-counted/", week_views.drift_report, name="drift"),
    path("statements/", views.statement_page, name="statement"),
    path("statements/shares/<int:leg_id>/", views.share_detail, name="share"),
    path("exports/", export_views.export_page, name="exports"),
    path("exports/<int:batch_id>/download/", export_views.export_download, name="export_download"),
    path("exports/<int:batch_id>/undo/", export_views.export_undo, name="export_undo"),
    path("exports/mapping/<int:practice_id>/", export_views.mapping_page, name="export_mapping"),
    path("settings/", views.settings_index, name="settings_index"),
    path("settings/<int:practice_id>/", views.settings_page, name="settings"),
]
