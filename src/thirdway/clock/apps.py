from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "thirdway.clock"
    verbose_name = "Clock"
