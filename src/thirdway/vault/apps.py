from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "thirdway.vault"
    verbose_name = "Vault"
