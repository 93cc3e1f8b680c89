from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from thirdway import views
from thirdway.api import api
from thirdway.mail import urls as mail_urls
from thirdway.tickets import urls as ticket_urls
from thirdway.tickets.views.clock_failures import clock_failures

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page says: the icon lives with the static files.
    path("favicon.ico", RedirectView.as_view(url="/static/web/favicon.svg", permanent=True)),
    path("accounts/", include("thirdway.accounts.urls")),
    path("partners/", include("thirdway.network.urls")),
    path("clients/", include("thirdway.clients.urls")),
    path("tickets/", include("thirdway.tickets.urls")),
    path("monitoring/", include("thirdway.monitoring.urls")),
    path("notifications/", include("thirdway.tickets.notifications.urls")),
    path("portal/", include("thirdway.portal.urls")),
    path("billing/", include("thirdway.billing.urls")),
    path("mail/", include("thirdway.mail.urls")),
    path("settings/", views.settings_index, name="settings"),
    path("settings/sla/", include("thirdway.sla.urls")),
    path("settings/rotas/", include("thirdway.network.rota_urls")),
    path("settings/clock-failures/", clock_failures, name="clock_failures"),
    path("backups/", include("thirdway.backup.urls")),
    path("vault/", include("thirdway.vault.urls")),
    path("playbooks/", include("thirdway.playbooks.urls")),
    path("sales/", include("thirdway.sales.urls")),
    path("insights/", include("thirdway.insights.urls")),
    path("settings/", include((mail_urls.settings_patterns, "mail_settings"))),
    path("settings/", include((ticket_urls.settings_patterns, "tickets_settings"))),
    # The admin site's own login form would skip the second factor; everyone signs in here.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
