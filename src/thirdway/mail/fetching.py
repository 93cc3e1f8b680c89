"""Polling IMAP mailboxes: fetch, commit the raw message, only then forget it on the server.

A message is deleted (or marked seen) on the server after its receipt is committed, never
before: a worker killed in between leaves it on the server, the next poll fetches it again, and
the unique (mailbox, Message-ID) turns the second copy into the first row.  Processing runs
after the fetch and is itself exactly-once (see ``services.inbound``).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re

from thirdway.mail.models import AfterFetch, InboundSource, Mailbox
from thirdway.mail.services import inbound

log = logging.getLogger(__name__)
BATCH = 200
TIMEOUT_SECONDS = 60


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    kind = imaplib.IMAP4_SSL if mailbox.imap_ssl else imaplib.IMAP4
    connection = kind(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    connection.login(mailbox.imap_user, mailbox.imap_password)
    status, _ = connection.select(_quoted(mailbox.imap_folder))
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot open folder {mailbox.imap_folder!r}")
    return connection


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll(mailbox: Mailbox, *, process: bool = True, limit: int = 5000) -> dict:
    """Fetch the mailbox in batches of ``BATCH`` until it is empty (or ``limit`` is reached)."""
    counts = {"fetched": 0, "new": 0, "duplicates": 0}
    connection = connect(mailbox)
    try:
        criteria = "UNDELETED" if mailbox.after_fetch == AfterFetch.DELETE else "UNSEEN UNDELETED"
        done: set[bytes] = set()
        while counts["fetched"] < limit:
            status, data = connection.uid("SEARCH", None, criteria)
            found = (data[0] or b"").split() if status == "OK" else []
            uids = [uid for uid in found if uid not in done][:BATCH]
            if not uids:
                break
            for uid in uids:
                done.add(uid)
                _take(connection, mailbox, uid, counts, process)
            if mailbox.after_fetch == AfterFetch.DELETE:
                connection.expunge()
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            connection.logout()
    return counts


def _take(connection: imaplib.IMAP4, mailbox: Mailbox, uid: bytes, counts: dict, process: bool):
    raw = _fetch(connection, uid)
    if raw is None:
        return
    counts["fetched"] += 1
    message, created = inbound.receive(raw, mailbox=mailbox, source=InboundSource.IMAP)
    counts["new" if created else "duplicates"] += 1
    _forget(connection, mailbox, uid)  # the receipt is committed: safe to forget
    if process and created:
        inbound.process(message.pk)


def _fetch(connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = connection.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def _forget(connection: imaplib.IMAP4, mailbox: Mailbox, uid: bytes) -> None:
    flag = r"(\Deleted)" if mailbox.after_fetch == AfterFetch.DELETE else r"(\Seen)"
    connection.uid("STORE", uid, "+FLAGS", flag)


def poll_all() -> dict:
    """Poll every active mailbox with an IMAP server; one failing mailbox stops no other."""
    results = {}
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
        try:
            results[mailbox.name] = poll(mailbox)
            error = ""
        except Exception as failure:
            log.exception("mail: polling %s failed", mailbox.name)
            results[mailbox.name] = {"error": str(failure)}
            error = f"{type(failure).__name__}: {failure}"[:2000]
        inbound.record_poll(mailbox, error)
    return results
