from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "thirdway.backup"
    label = "backup"
