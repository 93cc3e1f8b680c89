from django.urls import path

from thirdway.monitoring import agent_views, alert_views, incident_views, script_views, views

app_name = "monitoring"
urlpatterns = [
    path("", views.down_now, name="down_now"),
    path("mine/", views.own_board, name="own_board"),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", alert_views.alert_detail, name="alert_detail"),
    path("incidents/", incident_views.incident_list, name="incidents"),
    path(
        "clients/<int:client_id>/incidents/",
        incident_views.client_incidents,
        name="client_incidents",
    ),
    path("clients/<int:client_id>/", views.client_board, name="client_board"),
    path("clients/<int:client_id>/checks/new/", views.check_new, name="check_new"),
    path("clients/<int:client_id>/windows/", views.windows, name="windows"),
    path("clients/<int:client_id>/alert-rule/", views.alert_rule, name="alert_rule"),
    path("clients/<int:client_id>/asset-tags/", views.asset_tags, name="asset_tags"),
    path("clients/<int:client_id>/alertmanager/", views.intake_tokens, name="intake_tokens"),
    path("alertmanager-tokens/<int:token_id>/revoke/", views.intake_revoke, name="intake_revoke"),
    path("clients/<int:client_id>/agents/", agent_views.agent_list, name="agents"),
    path("clients/<int:client_id>/agent-tokens/", agent_views.agent_tokens, name="agent_tokens"),
    path("agents/<int:agent_id>/", agent_views.agent_detail, name="agent_detail"),
    path("agents/<int:agent_id>/revoke/", agent_views.agent_revoke, name="agent_revoke"),
    path(
        "agent-tokens/<int:token_id>/revoke/",
        agent_views.agent_token_revoke,
        name="agent_token_revoke",
    ),
    path("scripts/", script_views.script_list, name="scripts"),
    path("scripts/<int:script_id>/", script_views.script_detail, name="script_detail"),
    path("checks/<int:check_id>/", views.check_detail, name="check_detail"),
    path("checks/<int:check_id>/edit/", views.check_edit, name="check_edit"),
    path("checks/<int:check_id>/pause/", views.check_pause, name="check_pause"),
    path("checks/<int:check_id>/new-ping-url/", views.check_new_ping_url, name="new_ping_url"),
    path("checks/<int:check_id>/run-now/", views.check_run_now, name="check_run_now"),
    path("checks/<int:check_id>/delete/", views.check_delete, name="check_delete"),
    path("windows/<int:window_id>/edit/", views.window_edit, name="window_edit"),
    path("windows/<int:window_id>/delete/", views.window_delete, name="window_delete"),
]
