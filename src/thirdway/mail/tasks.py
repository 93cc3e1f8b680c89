"""Background work of the mail room: sending the outbox, polling mailboxes, catching up."""

from __future__ import annotations

from django_tasks import task


@task()
def send_outbound(outbound_id: int) -> str:
    from thirdway.mail.services import send

    return send(outbound_id)


@task()
def retry_due_mail() -> int:
    """The clock's sweep: enqueue every outbox message whose time has come."""
    from thirdway.mail.services.outbound import OUTBOX

    return OUTBOX.sweep(send_outbound)


@task()
def poll_mailboxes() -> dict:
    """Fetch every active IMAP mailbox, then process whatever is still unprocessed."""
    from thirdway.mail.fetching import poll_all
    from thirdway.mail.services import process_pending

    results = poll_all()
    results["processed_pending"] = process_pending()
    return results


@task()
def drain_spool() -> int:
    """Store and process what a mail server's pipe left in the mail spool."""
    from thirdway.mail.services import drain_spool as drain

    return drain()
