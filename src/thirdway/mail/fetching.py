"""Polling IMAP mailboxes: fetch, commit the raw messages, only then forget them on the server.

A message is deleted (or marked seen) on the server after its receipt is committed, never
before: a worker killed in between leaves it on the server, the next poll fetches it again, and
the unique (mailbox, Message-ID) turns the second copy into the first row.  Processing runs
after the fetch and is itself exactly-once (see ``services.inbound``).

Messages are taken a batch (``BATCH`` messages) at a time, and a batch a chunk at a time: one
FETCH for the chunk, one transaction storing all of it, one STORE flagging all of it.  Then
the batch's new messages are processed; on PostgreSQL in processing lanes (``mail/lanes.py``)
that work while the next batch is fetched and stored.  A chunk holds at most ``CHUNK`` messages
and, beyond its first, at most ``CHUNK_BYTES`` of them.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re

from thirdway.mail import receipt
from thirdway.mail.models import AfterFetch, InboundSource, Mailbox
from thirdway.mail.services import inbound
from thirdway.vault.crypto import VaultError

log = logging.getLogger(__name__)
BATCH = 200
CHUNK = 50
CHUNK_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 60
UID = re.compile(rb"UID (\d+)")
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class PasswordUnavailable(Exception):
    """The mailbox's IMAP password cannot be opened (the vault is closed, or the ciphertext
    does not belong to this mailbox): this mailbox is not polled, the others are."""


def imap_password(mailbox: Mailbox) -> str:
    """The password, opened from the vault without anyone present (the worker)."""
    try:
        return mailbox.imap_password
    except VaultError as error:
        raise PasswordUnavailable(
            f"The IMAP password of mailbox {mailbox.name!r} cannot be opened: {error}"
        ) from None


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    password = imap_password(mailbox)
    kind = imaplib.IMAP4_SSL if mailbox.imap_ssl else imaplib.IMAP4
    connection = kind(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    connection.login(mailbox.imap_user, password)
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
    processing = None  # the lanes processing the last chunk while the next one is fetched
    try:
        criteria = "UNDELETED" if mailbox.after_fetch == AfterFetch.DELETE else "UNSEEN UNDELETED"
        done: set[bytes] = set()
        while counts["fetched"] < limit:
            status, data = connection.uid("SEARCH", None, criteria)
            found = (data[0] or b"").split() if status == "OK" else []
            uids = [uid for uid in found if uid not in done][:BATCH]
            if not uids:
                break
            done.update(uids)
            stored = []
            for chunk in _chunks(connection, uids):
                stored += _take(connection, mailbox, chunk, counts)
            if mailbox.after_fetch == AfterFetch.DELETE:
                connection.expunge()
            if process:
                if processing is not None:  # the last batch's lanes end before these begin
                    processing.wait()
                processing = inbound.start_processing(stored)
    finally:
        if processing is not None:
            processing.wait()
        with contextlib.suppress(Exception):  # the connection may already be gone
            connection.logout()
    return counts


def _chunks(connection: imaplib.IMAP4, uids: list[bytes]) -> list[list[bytes]]:
    """The UIDs in chunks of at most ``CHUNK`` messages and ``CHUNK_BYTES`` (by their sizes)."""
    sizes = _sizes(connection, uids)
    chunks: list[list[bytes]] = [[]]
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        chunk = chunks[-1]
        if chunk and (len(chunk) >= CHUNK or total + size > CHUNK_BYTES):
            chunk, total = [], 0
            chunks.append(chunk)
        chunk.append(uid)
        total += size
    return [chunk for chunk in chunks if chunk]


def _sizes(connection: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    status, data = connection.uid("FETCH", b",".join(uids), "(RFC822.SIZE)")
    sizes = {}
    for item in data if status == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = UID.search(line or b""), SIZE.search(line or b"")
        if uid and size:
            sizes[uid.group(1)] = int(size.group(1))
    return sizes


def _take(connection: imaplib.IMAP4, mailbox: Mailbox, uids: list[bytes], counts: dict):
    """Fetch and store a chunk, then forget it on the server; the messages new to us."""
    fetched = _fetch(connection, uids)
    if not fetched:
        return []
    counts["fetched"] += len(fetched)
    received = receipt.receive_many(
        list(fetched.values()), mailbox=mailbox, source=InboundSource.IMAP
    )
    for _, created in received:
        counts["new" if created else "duplicates"] += 1
    _forget(connection, mailbox, list(fetched))  # the receipts are committed: safe to forget
    return [message for message, created in received if created]


def _fetch(connection: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, bytes]:
    """The raw bytes of the messages the server still has, by UID, in the order asked."""
    status, data = connection.uid("FETCH", b",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        return {}
    found: dict[bytes, bytes] = {}
    for position, item in enumerate(data):
        if not (isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0]):
            continue
        # The UID comes before the literal, or in what follows it ("...BODY[] {n}" ")").
        after = data[position + 1] if position + 1 < len(data) else b""
        uid = UID.search(item[0]) or UID.search(after if isinstance(after, bytes) else b"")
        if uid is not None:
            found[uid.group(1)] = item[1]
    return {uid: found[uid] for uid in uids if uid in found}


def _forget(connection: imaplib.IMAP4, mailbox: Mailbox, uids: list[bytes]) -> None:
    flag = r"(\Deleted)" if mailbox.after_fetch == AfterFetch.DELETE else r"(\Seen)"
    connection.uid("STORE", b",".join(uids), "+FLAGS", flag)


def poll_all() -> dict:
    """Poll every active mailbox with an IMAP server; one failing mailbox stops no other."""
    results = {}
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
        try:
            results[mailbox.name] = poll(mailbox)
            error = ""
        except PasswordUnavailable as failure:
            log.error("mail: polling %s failed: %s", mailbox.name, failure)
            results[mailbox.name] = {"error": str(failure)}
            error = str(failure)[:2000]
        except Exception as failure:
            log.exception("mail: polling %s failed", mailbox.name)
            results[mailbox.name] = {"error": str(failure)}
            error = f"{type(failure).__name__}: {failure}"[:2000]
        inbound.record_poll(mailbox, error)
    return results


CHECK_TIMEOUT_SECONDS = 10


def check_connection(mailbox: Mailbox) -> str:
    """Connect, sign in and open the folder with the stored settings, then leave.

    Returns "" when all of it worked, else what went wrong (never the password): the answer of
    the "Test connection" button.  Gives up after ``CHECK_TIMEOUT_SECONDS`` of silence.
    """
    if not mailbox.imap_host:
        return "No IMAP server is set: this mailbox is not polled."
    try:
        password = imap_password(mailbox)
    except PasswordUnavailable as error:
        return str(error)
    kind = imaplib.IMAP4_SSL if mailbox.imap_ssl else imaplib.IMAP4
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        connection = kind(mailbox.imap_host, mailbox.imap_port, timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"No answer from {where} within {CHECK_TIMEOUT_SECONDS} seconds."
    except (OSError, imaplib.IMAP4.error) as error:
        return f"Could not connect to {where}: {_reason(error)}"
    try:
        connection.login(mailbox.imap_user, password)
        status, _ = connection.select(_quoted(mailbox.imap_folder), readonly=True)
        if status != "OK":
            return f"Signed in, but the folder {mailbox.imap_folder!r} cannot be opened."
        return ""
    except TimeoutError:
        return f"{where} stopped answering within {CHECK_TIMEOUT_SECONDS} seconds."
    except imaplib.IMAP4.error as error:
        return f"The server refused to sign in {mailbox.imap_user!r}: {_reason(error)}"
    except OSError as error:
        return f"The connection to {where} failed: {_reason(error)}"
    finally:
        with contextlib.suppress(Exception):
            connection.logout()


def _reason(error: Exception) -> str:
    text = str(error)
    if text.startswith("b'") or text.startswith('b"'):  # imaplib's errors carry the raw bytes
        text = text[2:-1]
    return text or type(error).__name__
