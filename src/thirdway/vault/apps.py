from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "thirdway.vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from thirdway.accounts.access_lost import on_access_lost
        from thirdway.backup.secret_parts import register
        from thirdway.vault.backup_keys import PART
        from thirdway.vault.services.rotation import on_access_lost as remind

        on_access_lost(remind)
        register(PART)
