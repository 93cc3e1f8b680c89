from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "thirdway.audit"
    verbose_name = "Audit trail"
