from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "thirdway.billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from thirdway.billing.ticket_time import follow_article
        from thirdway.tickets.timekeeping import keep_time_with

        keep_time_with(follow_article)
