from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "thirdway.tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from thirdway import configcache
        from thirdway.tickets.models import PracticeDispatch, Webhook

        configcache.watch(Webhook, PracticeDispatch)
