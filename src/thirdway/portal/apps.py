from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "thirdway.portal"
    verbose_name = "Client portal"
