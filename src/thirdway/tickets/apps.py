from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "thirdway.tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from thirdway.tickets import dispatching, events

        events.listen(dispatching.heard)
