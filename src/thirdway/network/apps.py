from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "thirdway.network"
    verbose_name = "Partner network"
