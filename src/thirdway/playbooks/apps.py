from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "thirdway.playbooks"
    verbose_name = "Playbooks"
