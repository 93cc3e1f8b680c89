from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "thirdway.billing"
    verbose_name = "Billing"
