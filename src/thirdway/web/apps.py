from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "thirdway.web"
    verbose_name = "Web interface"
