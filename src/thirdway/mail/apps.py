from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "thirdway.mail"
    verbose_name = "E-mail channel"

    def ready(self) -> None:
        # Mail sits above tickets: it subscribes to ticket events, tickets never import mail.
        from django.conf import settings

        from thirdway import configcache
        from thirdway.mail import notifications, parsing
        from thirdway.mail.models import Mailbox, MailTemplate
        from thirdway.mail.services import notices
        from thirdway.tickets.notifications import services as staff_notifications
        from thirdway.tickets.webhooks import events
        from thirdway.vault.network_secrets import SealedColumn, seals_network_secrets

        events.listen(notifications.on_ticket_event)
        # The network's own notifications go out by e-mail through the same outbox.
        staff_notifications.mail_with(notices.queue_notice)
        # ... and so do messages of rooms beside this one (a released client report).
        staff_notifications.letters_with(notices.queue_letter)
        configcache.watch(Mailbox, MailTemplate)
        # The mailboxes' IMAP passwords are sealed under the network's data key: named so
        # that ``thirdway keys rotate --network`` seals them anew.
        seals_network_secrets(
            SealedColumn(
                model=Mailbox,
                column="imap_password_sealed",
                version_column="imap_password_key_version",
                field_name="imap_password",
                record=Mailbox.sealed_record,
                label="mailbox",
            )
        )
        # parsing.py stays free of Django: it is told the setting once.
        parsing.HEADER_CHARSETS = tuple(settings.MAIL_HEADER_CHARSETS)
