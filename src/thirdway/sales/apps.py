from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "thirdway.sales"
    verbose_name = "Sales"
