from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "thirdway.monitoring"
    verbose_name = "Monitoring"
