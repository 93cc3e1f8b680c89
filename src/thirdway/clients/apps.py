from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "thirdway.clients"
    verbose_name = "Clients"
