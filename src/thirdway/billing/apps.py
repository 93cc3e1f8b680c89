from django.apps import AppConfig
from django.db.models.signals import post_save


class BillingConfig(AppConfig):
    name = "thirdway.billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from thirdway.billing.ticket_time import on_article_saved
        from thirdway.tickets.models import Article

        post_save.connect(on_article_saved, sender=Article, dispatch_uid="billing.article_time")
