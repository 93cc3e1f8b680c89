"""A real Postfix (Debian's package) delivers into the pipe as docs/mail.md documents it: the
alias in an alias database owned by the install's user, so local(8) runs the command as that
user; the worker makes the message a ticket, and a message piped while no worker runs waits
in the spool until one starts.  Where the pipe runs as someone else (Postfix's
``default_privs``, ``nobody``, for a root-owned alias file: Debian's /etc/aliases), both forms
of the command exit 75 and Postfix keeps the mail in its queue instead of bouncing it; fixed,
the queue delivers it."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import pytest

from support.installations import Installation, new_installation, remove
from support.postfix import Postfix, binary

from .conftest import REPO, mail

SYSTEM_PYTHON = "/usr/bin/python3"
pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(binary() is None, reason="postfix is not installed (.ci/run installs it)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="Postfix's master runs as root"),
    pytest.mark.skipif(
        not os.path.exists(SYSTEM_PYTHON), reason="the system's Python is needed (see deployed)"
    ),
]

# The install belongs to an unprivileged account of its own (Debian's ``daemon`` stands in for
# a ``thirdway`` user); the mail server's ``default_privs`` is ``nobody``.
OWNER = "daemon"
WAIT = 90  # seconds: a bound for a loaded machine, not a measure


READABLE = "import os, sys; sys.exit(not all(os.access(p, os.R_OK) for p in sys.argv[1:]))"


@pytest.fixture(scope="module")
def deployed() -> str:
    """The ``thirdway`` command of an install as other users can run it: a virtual
    environment of the system's Python (the tests' own may live where only root may enter)
    that sees this checkout and the packages of the tests' environment."""
    version = subprocess.run(  # noqa: S603
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(f"the system's Python is {version}, the tests' {sys.version_info[:2]}")
    ours = sysconfig.get_paths()["purelib"]
    readable = subprocess.run(  # noqa: S603 - as the install's user: can it read the code?
        [SYSTEM_PYTHON, "-c", READABLE, ours, str(REPO / "src" / "thirdway" / "cli.py")],
        user=OWNER,
        check=False,
    )
    if readable.returncode:
        pytest.skip(f"{OWNER} cannot read this checkout or its packages (under a private folder)")
    root = Path(tempfile.mkdtemp(prefix="thirdway-postfix-venv-"))
    root.chmod(0o755)
    venv = root / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603

    [packages] = venv.glob("lib/python3*/site-packages")
    (packages / "thirdway-tests.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n{REPO / 'src'}\n"
    )
    command = venv / "bin" / "thirdway"
    command.write_text(f"#!{venv / 'bin' / 'python'}\nfrom thirdway.cli import main\nmain()\n")
    command.chmod(0o755)
    yield str(command)
    shutil.rmtree(root, ignore_errors=True)


def pipe_line(alias: str, installation: Installation, thirdway: str, *options: str) -> str:
    """The alias line of docs/mail.md for this installation."""
    environment = f"THIRDWAY_HOME={installation.home}"
    if installation.url:
        environment += f" THIRDWAY_DATABASE_URL={installation.url}"
    command = " ".join([thirdway, "mail", "ingest", *options, "--mailbox", "help"])
    return f'{alias}: "|env {environment} {command}"'


# Mail from acme.example comes from Acme: a message opens a ticket.
CLIENT = """
from thirdway.accounts import services as accounts
from thirdway.clients import services as clients
from thirdway.mail import services as mail
admin = accounts.create_user(None, username="admin", role="practice_admin", source="cli")
acme = clients.create_client(admin, name="Acme", time_zone="UTC", country="FR", source="cli")
mail.set_client_domain(None, acme, "acme.example", source="cli")
mail.save_mailbox(None, "help", source="cli", address="help@desk.example")
"""


@pytest.fixture
def installation(migrated):
    # Not under pytest's temporary root, which is readable by root alone.
    home = Path(tempfile.mkdtemp(prefix="thirdway-postfix-home-")) / "home"
    installation = new_installation(home, migrated)
    installation.shell(CLIENT)
    owner = pwd.getpwnam(OWNER)
    for path in [home, *home.rglob("*")]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    home.parent.chmod(0o755)
    home.chmod(0o755)  # readable, as a home folder often is: its secrets stay its owner's
    assert (home / "secret_key").stat().st_mode & 0o077 == 0
    yield installation
    remove(installation)
    shutil.rmtree(home.parent, ignore_errors=True)


def start_worker(installation: Installation, thirdway: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own command
        [thirdway, "worker"],
        env=installation.env(),
        user=OWNER,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def subjects(installation: Installation) -> list[str]:
    rows = installation.query("SELECT subject FROM tickets_ticket ORDER BY id")
    return [subject for (subject,) in rows]


def wait_for(check, what: str, postfix: Postfix):
    deadline = time.monotonic() + WAIT
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}, after {WAIT} s; Postfix's log:\n{postfix.log()}")
        time.sleep(0.3)


def spooled(installation: Installation) -> list[str]:
    folder = installation.home / "mail-spool" / "new"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_postfix_delivers_into_the_documented_pipe_and_the_worker_opens_the_ticket(
    installation, deployed
):
    postfix = Postfix({OWNER: [pipe_line("help", installation, deployed)]})
    worker = None
    try:
        # No worker yet: the message waits in the spool, and Postfix is done with it.
        postfix.send(mail(subject="Piped while the worker was down"), "bob@acme.example", "help")
        wait_for(lambda: spooled(installation), "no message in the spool", postfix)
        wait_for(lambda: not postfix.queue(), "Postfix still holds the message", postfix)
        assert "status=sent" in postfix.log()
        assert subjects(installation) == []

        worker = start_worker(installation, deployed)
        wait_for(lambda: subjects(installation), "no ticket once the worker started", postfix)
        postfix.send(mail(subject="Piped while the worker runs"), "bob@acme.example", "help")
        wait_for(
            lambda: len(subjects(installation)) == 2, "no ticket for the second message", postfix
        )
        assert subjects(installation) == [
            "Piped while the worker was down",
            "Piped while the worker runs",
        ]
        assert spooled(installation) == []
        [(source, mailbox)] = set(
            installation.query("SELECT source, mailbox_name FROM mail_inboundmessage")
        )
        assert (source, mailbox) == ("pipe", "help")
    finally:
        if worker is not None:
            stop(worker)
        postfix.stop()


def test_a_pipe_running_as_another_user_is_deferred_not_bounced(installation, deployed):
    """Debian's default: a root-owned alias file, so the command runs as ``nobody``, who can
    neither write the install's spool nor read its secret key."""
    lines = [
        pipe_line("help", installation, deployed),
        pipe_line("now", installation, deployed, "--now"),
    ]
    postfix = Postfix({"root": lines})
    try:
        for alias in ("help", "now"):
            postfix.send(mail(subject=f"To {alias}"), "bob@acme.example", alias)

        def both_deferred() -> bool:
            lines = postfix.log().splitlines()
            tried = [
                alias
                for alias in ("help", "now")
                if any(
                    f"to=<{alias}@desk.example>, relay=local" in line and "status=deferred" in line
                    for line in lines
                )
            ]
            queue = postfix.queue()
            return len(tried) == 2 and all(entry["queue_name"] == "deferred" for entry in queue)

        wait_for(both_deferred, "the messages were not deferred", postfix)
        queue = postfix.queue()
        assert sorted(r["address"] for e in queue for r in e["recipients"]) == [
            "help@desk.example",
            "now@desk.example",
        ]
        assert {entry["sender"] for entry in queue} == {"bob@acme.example"}  # no bounce
        log = postfix.log()
        assert "status=bounced" not in log
        assert "Traceback" not in log
        # What the command said, in the mail log: why, and as whom.
        assert "not kept, try again" in log and "runs as nobody" in log
        assert "PermissionError" in log  # the secret key (--now)
        assert spooled(installation) == []
        assert subjects(installation) == []

        # Fixed (the alias file given to the install's user): the queue delivers them.
        for path in postfix.config.glob("aliases0*"):
            shutil.chown(path, OWNER)
        postfix.postfix("reload")

        def delivered() -> bool:
            # A flush while a delivery that started before the fix is still failing is
            # skipped, and the queue would then wait minutes for its next try: ask again.
            postfix.postfix("flush")
            time.sleep(1)
            return not postfix.queue()

        wait_for(delivered, "the queue did not deliver after the fix", postfix)
        assert len(spooled(installation)) == 1  # "help" spooled; "now" stored in the database
        assert subjects(installation) == ["To now"]
    finally:
        postfix.stop()
