from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "thirdway.sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from thirdway import configcache
        from thirdway.sla import models

        configcache.watch(
            models.BusinessCalendar, models.SlaPolicy, models.SlaTarget, models.ClientServiceLevel
        )
