from django.contrib import admin

from thirdway.mail.models import (
    BouncingAddress,
    ClientDomain,
    InboundMessage,
    Mailbox,
    MailTemplate,
    OutboundMessage,
)
from thirdway.web.admin import ReadOnlyAdmin


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    list_display = ["name", "address", "practice", "imap_host", "is_active", "last_polled_at"]
    exclude = ["imap_password_sealed", "imap_password_key_version"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "mailbox_name", "from_address", "subject", "status"]
    list_filter = ["status", "source"]
    search_fields = ["from_address", "subject", "message_id"]
    exclude = ["raw"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to_address", "subject", "kind", "status", "attempts"]
    list_filter = ["status", "kind"]
    exclude = ["raw"]


admin.site.register(ClientDomain, ReadOnlyAdmin)
admin.site.register(BouncingAddress, ReadOnlyAdmin)
admin.site.register(MailTemplate, ReadOnlyAdmin)
