from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "thirdway.tickets"
    verbose_name = "Service desk"
