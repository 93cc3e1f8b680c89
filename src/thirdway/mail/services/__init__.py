"""Every change the mail room makes (the only writers of its models): receiving and processing
inbound mail, quarantine and triage, client domains and templates, and the outbox."""

from thirdway.mail.services.inbound import (
    assign_to_client,
    drain_spool,
    process,
    process_pending,
    receive,
    receive_and_process,
    reprocess,
)
from thirdway.mail.services.outbound import (
    add_mailbox,
    queue_notification,
    remove_client_domain,
    save_mailbox,
    save_template,
    send,
    set_client_domain,
)
from thirdway.mail.services.senders import mail_actor

__all__ = [
    "add_mailbox",
    "assign_to_client",
    "drain_spool",
    "mail_actor",
    "process",
    "process_pending",
    "queue_notification",
    "receive",
    "receive_and_process",
    "remove_client_domain",
    "reprocess",
    "save_mailbox",
    "save_template",
    "send",
    "set_client_domain",
]
