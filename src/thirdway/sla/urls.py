from django.urls import path

from thirdway.sla import views

app_name = "sla"
urlpatterns = [
    path("calendars/", views.calendar_list, name="calendar_list"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/regions/", views.holiday_regions, name="holiday_regions"),
    path("calendars/<int:calendar_id>/", views.calendar_detail, name="calendar_detail"),
    path("calendars/<int:calendar_id>/closed/", views.closed_day_add, name="closed_day_add"),
    path(
        "calendars/<int:calendar_id>/closed/<str:day>/remove/",
        views.closed_day_remove,
        name="closed_day_remove",
    ),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:policy_id>/steps/", views.step_add, name="step_add"),
    path("policies/<int:policy_id>/steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path(
        "policies/<int:policy_id>/steps/<int:step_id>/remove/",
        views.step_remove,
        name="step_remove",
    ),
    path("clients/", views.client_levels, name="client_levels"),
]
