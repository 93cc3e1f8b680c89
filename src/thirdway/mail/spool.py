"""The mail spool: a folder where a mail server's pipe drops messages without starting Django.

``thirdway mail ingest --spool`` writes the message it reads on standard input to
``<spool>/tmp``, flushes it to disk, renames it into ``<spool>/new`` and exits 0: about 20 ms,
where storing it in the database first costs half a second of start-up for each message.  The
worker's ``mail.spool`` job (and ``thirdway mail poll``) stores what is in ``new`` in the
database, a chunk to a transaction, deletes the files only after that commit, then processes
the messages.  A file left behind by a crash between the commit and the deletion is stored
again as a duplicate of itself (same Message-ID and mailbox): nothing is done twice.

The folder is ``THIRDWAY_MAIL_SPOOL``, else ``mail-spool`` in ``THIRDWAY_HOME``.  Nothing here
imports Django.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from pathlib import Path

NEW, TMP = "new", "tmp"
SEPARATOR = "@"


def directory(environ: Mapping[str, str] = os.environ) -> Path:
    """The spool folder the settings and the pipe agree on."""
    if environ.get("THIRDWAY_MAIL_SPOOL"):
        return Path(environ["THIRDWAY_MAIL_SPOOL"]).resolve()
    home = Path(environ.get("THIRDWAY_HOME") or Path.cwd() / "var").resolve()
    return home / "mail-spool"


def put(raw: bytes, mailbox: str, folder: Path) -> Path:
    """Keep ``raw`` for ``mailbox`` (a name, or "") durably; the path it is kept at."""
    for name in (NEW, TMP):
        (folder / name).mkdir(mode=0o700, parents=True, exist_ok=True)
    unique = f"{time.time_ns()}.{os.getpid()}.{os.urandom(4).hex()}"
    label = base64.urlsafe_b64encode(mailbox.encode()).decode().rstrip("=")
    written = folder / TMP / unique
    # Mail is private: readable by the install's own user only.
    handle = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(raw)
        out.flush()
        os.fsync(out.fileno())
    final = folder / NEW / f"{unique}{SEPARATOR}{label}"
    os.rename(written, final)
    _sync_folder(folder / NEW)
    return final


def waiting(folder: Path, limit: int | None = None) -> list[tuple[Path, str]]:
    """The messages waiting in ``new``, oldest first, with their mailbox's name."""
    try:
        names = sorted(os.listdir(folder / NEW))
    except FileNotFoundError:
        return []
    found = []
    for name in names[:limit]:
        label = name.partition(SEPARATOR)[2]
        try:
            mailbox = base64.urlsafe_b64decode(label + "=" * (-len(label) % 4)).decode()
        except ValueError:
            mailbox = ""
        found.append((folder / NEW / name, mailbox))
    return found


def forget_unfinished(folder: Path, older_than_seconds: float = 86400) -> int:
    """Delete files a pipe began in ``tmp`` and never finished (it exited 75, so the mail
    server kept the message and tried again); how many went."""
    try:
        names = os.listdir(folder / TMP)
    except FileNotFoundError:
        return 0
    cutoff = time.time() - older_than_seconds
    gone = 0
    for name in names:
        path = folder / TMP / name
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except FileNotFoundError:
            continue
    return gone


def _sync_folder(path: Path) -> None:
    """Make a rename durable (the folder's entry), where the system allows it."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def ingest_from_stdin(argv: list[str], stdin, stdout, stderr) -> int:
    """``thirdway mail ingest --spool [--mailbox NAME]``: 0 once kept, 75 (EX_TEMPFAIL) when it
    could not be, so the mail server keeps the message and tries again."""
    mailbox = ""
    if "--mailbox" in argv:
        at = argv.index("--mailbox")
        if at + 1 >= len(argv):
            print("thirdway mail: --mailbox needs a mailbox's name", file=stderr)
            return 2
        mailbox = argv[at + 1]
    else:
        mailbox = next((a.split("=", 1)[1] for a in argv if a.startswith("--mailbox=")), "")
    raw = stdin.read()
    try:
        path = put(raw, mailbox, directory())
    except OSError as error:
        print(f"thirdway mail: not kept, try again: {error}", file=stderr)
        return 75
    # (the name is digits, dots, hex and base64url: JSON without an encoder)
    print(f'{{"spooled": "{path.name}", "bytes": {len(raw)}}}', file=stdout)
    return 0
