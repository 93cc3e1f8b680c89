from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "thirdway.accounts"
    verbose_name = "Accounts"
