from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "thirdway.vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from thirdway.accounts.access_lost import on_access_lost
        from thirdway.backup.secret_parts import register
        from thirdway.clients.certificates import on_certificate_seen
        from thirdway.vault.backup_keys import PART
        from thirdway.vault.services.certificates import take_certificate
        from thirdway.vault.services.rotation import on_access_lost as remind

        on_access_lost(remind)
        # Certificates monitoring reads go into the expirations register.
        on_certificate_seen(take_certificate)
        # The master keys travel in a backup's secrets file.
        register(PART)
