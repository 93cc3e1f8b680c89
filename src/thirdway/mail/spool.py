"""The mail spool: a folder where a mail server's pipe drops messages without starting Django.

``thirdway mail ingest`` (the pipe a mail server runs, once per message) writes the message it
reads on standard input to ``<spool>/tmp``, renames it into ``<spool>/new``, flushes it to disk
and exits 0: about 25 ms, most of it Python's own start-up, where storing it in the database
first costs half a second of start-up for each message.  The worker watches ``new`` (``watch``
in ``mail/services``: a look every half second, a drain as soon as something waits), and the
clock's ``mail.spool`` job and ``thirdway mail poll`` drain it too: the waiting files are stored
in the database, a chunk to a transaction, deleted only after that commit, then processed.  One
drain at a time holds the folder (``draining``).  A file left behind by a crash between the
commit and the deletion is stored again as a duplicate of itself (same Message-ID and
mailbox): nothing is done twice.

The folder is ``THIRDWAY_MAIL_SPOOL``, else ``mail-spool`` in ``THIRDWAY_HOME``.  Nothing here
imports Django.
"""

from __future__ import annotations

import binascii
import os
import time

TYPE_CHECKING = False  # (typing itself is not imported: see below)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

NEW, TMP = "new", "tmp"
SEPARATOR = "@"
# The pipe's own path (``put``, ``ingest_from_stdin``) imports nothing beyond ``os``, ``time``
# and ``binascii``: Python's start-up is most of its cost, and pathlib, base64 or typing would
# add half as much again.  What the worker calls may import more.
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _folder(environ: Mapping[str, str]) -> str:
    if environ.get("THIRDWAY_MAIL_SPOOL"):
        return os.path.realpath(environ["THIRDWAY_MAIL_SPOOL"])
    home = os.path.realpath(environ.get("THIRDWAY_HOME") or os.path.join(os.getcwd(), "var"))
    return os.path.join(home, "mail-spool")


def directory(environ: Mapping[str, str] = os.environ) -> Path:
    """The spool folder the settings and the pipe agree on."""
    from pathlib import Path

    return Path(_folder(environ))


def put(raw: bytes, mailbox: str, folder: str | os.PathLike) -> str:
    """Keep ``raw`` for ``mailbox`` (a name, or "") durably; the path it is kept at."""
    new, tmp = os.path.join(folder, NEW), os.path.join(folder, TMP)
    for name in (new, tmp):
        os.makedirs(name, mode=0o700, exist_ok=True)
    unique = f"{time.time_ns()}.{os.getpid()}.{os.urandom(4).hex()}"
    # The mailbox's name in base64url, without padding (as ``waiting`` reads it).
    label = binascii.b2a_base64(mailbox.encode(), newline=False).translate(_URLSAFE)
    written = os.path.join(tmp, unique)
    # Mail is private: readable by the install's own user only.
    handle = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    final = os.path.join(new, f"{unique}{SEPARATOR}{label.rstrip(b'=').decode()}")
    with os.fdopen(handle, "wb") as out:
        out.write(raw)
        out.flush()
        # Renamed whole, then made durable: the file's fsync commits the rename with it (one
        # journal commit, where fsync-rename-fsync costs two and halves the rate), and the
        # folder's fsync makes sure of the entry where the file system needs it.  Should the
        # worker store the file in between and this pipe then fail, the mail server's retry is
        # a duplicate of a stored message (same Message-ID and mailbox): nothing is done twice.
        os.rename(written, final)
        os.fsync(out.fileno())
    _sync_folder(new)
    return final


def waiting(folder: Path, limit: int | None = None) -> list[tuple[Path, str]]:
    """The messages waiting in ``new``, oldest first, with their mailbox's name."""
    import base64
    from pathlib import Path

    folder = Path(folder)
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


def has_waiting(folder: str | os.PathLike) -> bool:
    """Whether a message waits in ``new`` (one look at the folder, cheap enough to repeat)."""
    try:
        with os.scandir(os.path.join(folder, NEW)) as entries:
            return any(not entry.name.startswith(".") for entry in entries)
    except FileNotFoundError:
        return False


class draining:
    """``with draining(folder) as mine:``: ``mine`` is true for the one drain at a time that
    holds the spool (an advisory lock on ``new``, let go when the process ends, however it
    ends); another drain meanwhile gets false and leaves the files to it."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = os.path.join(folder, NEW)
        self.handle: int | None = None

    def __enter__(self) -> bool:
        import fcntl

        try:
            self.handle = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False  # nothing was ever spooled
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.handle)
            self.handle = None
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            os.close(self.handle)  # (closing lets go of the lock)
            self.handle = None


def forget_unfinished(folder: Path, older_than_seconds: float = 86400) -> int:
    """Delete files a pipe began in ``tmp`` and never finished (it exited 75, so the mail
    server kept the message and tried again); how many went."""
    from pathlib import Path

    folder = Path(folder)
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


def _sync_folder(path: str) -> None:
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
    """``thirdway mail ingest [--mailbox NAME]``: 0 once kept, 75 (EX_TEMPFAIL) when it could not
    be, so the mail server keeps the message and tries again."""
    # (imports nothing more: see the top of this module)
    mailbox = ""
    if "--mailbox" in argv:
        at = argv.index("--mailbox")
        if at + 1 >= len(argv):
            print(
                "thirdway mail: not kept, try again: --mailbox needs a mailbox's name", file=stderr
            )
            return 75
        mailbox = argv[at + 1]
    else:
        mailbox = next((a.split("=", 1)[1] for a in argv if a.startswith("--mailbox=")), "")
    raw = stdin.read()
    try:
        path = put(raw, mailbox, _folder(os.environ))
    except OSError as error:
        print(f"thirdway mail: not kept, try again: {error}{_whose(error)}", file=stderr)
        return 75
    # (the name is digits, dots, hex and base64url: JSON without an encoder)
    print(f'{{"spooled": "{os.path.basename(path)}", "bytes": {len(raw)}}}', file=stdout)
    return 0


def one_line(error: BaseException) -> str:
    """An error as one line of a mail server's log: its kind and the first line it says."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _whose(error: OSError) -> str:
    """For a refusal, which user the pipe runs as: the mail server's, most often, not the
    install's (docs/mail.md, *The pipe's user*)."""
    if not isinstance(error, PermissionError):
        return ""
    import pwd

    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        name = str(os.geteuid())
    return f" (this pipe runs as {name}: it must run as the user of the install)"
