from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "thirdway.tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from thirdway import configcache
        from thirdway.sla import services as sla
        from thirdway.tickets.models import PracticeDispatch, Webhook
        from thirdway.tickets.sla_clocks import clocks

        configcache.watch(Webhook, PracticeDispatch)
        # A policy's targets or steps, or a calendar, changed: the sweep reads their tickets.
        sla.listen(clocks.configuration_changed)
