from django.urls import path

from thirdway.tickets.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read/", views.mark_all_read, name="read_all"),
    path("<int:notification_id>/read/", views.mark_read, name="read"),
    path("settings/", views.preferences, name="settings"),
]
