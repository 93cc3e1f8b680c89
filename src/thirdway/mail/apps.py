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

        events.listen(notifications.on_ticket_event)
        # The network's own notifications go out by e-mail through the same outbox.
        staff_notifications.mail_with(notices.queue_notice)
        # ... and so do messages of rooms beside this one (a released client report).
        staff_notifications.letters_with(notices.queue_letter)
        configcache.watch(Mailbox, MailTemplate)
        # parsing.py stays free of Django: it is told the setting once.
        parsing.HEADER_CHARSETS = tuple(settings.MAIL_HEADER_CHARSETS)
