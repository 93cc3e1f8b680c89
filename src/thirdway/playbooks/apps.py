from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "thirdway.playbooks"
    verbose_name = "Playbooks"

    def ready(self) -> None:
        # Playbooks sit above tickets: resolving a step's ticket from the desk completes the
        # step (or is refused), through the hook the tickets room calls; tickets never import
        # playbooks.
        from thirdway.playbooks import runs
        from thirdway.tickets.services import workflow

        workflow.on_status_change(runs.ticket_status_changed)
