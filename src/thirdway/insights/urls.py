from django.urls import path

from thirdway.insights import views

app_name = "insights"
urlpatterns = [
    path("metrics/", views.metrics, name="metrics"),
    path("metrics.csv", views.metrics_csv, name="metrics_csv"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/<int:partner_id>/", views.scorecard, name="partner_scorecard"),
    path("rate/<str:token>/", views.rate, name="rate"),
    path("tickets/<int:ticket_id>/rate/", views.rate_ticket, name="rate_ticket"),
]
