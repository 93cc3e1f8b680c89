from django.urls import path

from thirdway.playbooks import views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="playbook_list"),
    path("<int:playbook_id>/", views.playbook_detail, name="playbook_detail"),
    path("<int:playbook_id>/publish/", views.publish, name="publish"),
    path("<int:playbook_id>/start/", views.run_start, name="run_start"),
    path("<int:playbook_id>/steps/<int:position>/", views.step_edit, name="step_edit"),
    path("<int:playbook_id>/steps/<int:position>/<str:act>/", views.step_act, name="step_act"),
    path("<int:playbook_id>/improvement/", views.improvement, name="improvement"),
    path("runs/<int:run_id>/feedback/", views.run_feedback, name="run_feedback"),
    path("runs/<int:run_id>/steps/<int:position>/reopen/", views.step_reopen, name="step_reopen"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/report/", views.run_report, name="run_report"),
    path("schedules/", views.schedule_list, name="schedule_list"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="schedule_edit"),
]
