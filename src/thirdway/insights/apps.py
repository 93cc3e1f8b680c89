from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "thirdway.insights"
    label = "insights"
    verbose_name = "Insights"
