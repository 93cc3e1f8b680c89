from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "thirdway.sla"
    verbose_name = "Service levels"
