from django.urls import path

from thirdway.network import views

app_name = "network"
urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("new/", views.partner_create, name="partner_create"),
    path("practices/", views.practice_list, name="practice_list"),
    path("on-call/", views.on_call, name="on_call"),
    path("on-call/feed/reset/", views.on_call_feed_reset, name="on_call_feed_reset"),
    path("on-call/feed/<str:token>.ics", views.on_call_feed, name="on_call_feed"),
    path("practices/<int:practice_id>/", views.practice_detail, name="practice_detail"),
    path("<int:partner_id>/", views.partner_detail, name="partner_detail"),
    path("<int:partner_id>/edit/", views.partner_edit, name="partner_edit"),
    path("<int:partner_id>/absences/", views.absence_add, name="absence_add"),
    path(
        "<int:partner_id>/absences/<int:absence_id>/cancel/",
        views.absence_cancel,
        name="absence_cancel",
    ),
]
