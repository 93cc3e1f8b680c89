from django.urls import path

from thirdway.insights import nps_views, report_views, views

app_name = "insights"
urlpatterns = [
    path("metrics/", views.metrics, name="metrics"),
    path("metrics.csv", views.metrics_csv, name="metrics_csv"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("thresholds/", views.thresholds_page, name="thresholds"),
    path("scorecard/<int:partner_id>/", views.scorecard, name="partner_scorecard"),
    path("rate/<str:token>/", views.rate, name="rate"),
    path("tickets/<int:ticket_id>/rate/", views.rate_ticket, name="rate_ticket"),
    path("nps/", nps_views.results, name="nps"),
    path("nps/answer/", nps_views.portal_question, name="nps_portal"),
    path("nps/<str:token>/", nps_views.answer, name="nps_answer"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/schedules/", report_views.report_schedules, name="report_schedules"),
    path("reports/<int:report_id>/", report_views.report_detail, name="report"),
    path("reports/<int:report_id>/release/", report_views.report_release, name="report_release"),
    path("reports/<int:report_id>.pdf", report_views.report_pdf_download, name="report_pdf"),
]
