"""Fixtures of the mail room: mailboxes, messages written as clients write them, and real
servers (aiosmtpd for SMTP, Debian's dovecot for IMAP) on free loopback ports."""

from __future__ import annotations

import email.utils
import os
import shutil
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from support.smtp import free_port, smtp_server  # noqa: F401  (the mail tests use both)
from thirdway.mail.models import Mailbox

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus" / "mail").resolve()


@pytest.fixture
def helpdesk(cast) -> Mailbox:
    return Mailbox.objects.create(name="help", address="help@desk.example")


@pytest.fixture
def security_box(cast) -> Mailbox:
    return Mailbox.objects.create(
        name="security", address="security@desk.example", practice=cast.security
    )


def mail(
    sender: str = "alice@acme.example",
    subject: str = "Printer on fire",
    body: str = "The printer in the back office is on fire.",
    *,
    message_id: str | None = None,
    to: str = "help@desk.example",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, kind, content in attachments:
        main, _, sub = kind.partition("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


# --- IMAP ----------------------------------------------------------------------------------------

IMAP_PASSWORD = "imap-test-password"
DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class Dovecot:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port, self.config = root, port, root / "dovecot.conf"

    def connect(self, user: str = "desk"):
        import imaplib

        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        connection.login(user, IMAP_PASSWORD)
        return connection

    def append(self, raw: bytes, user: str = "desk") -> None:
        connection = self.connect(user)
        try:
            status, _ = connection.append("INBOX", None, None, raw)
            assert status == "OK"
        finally:
            connection.logout()

    def count(self, user: str = "desk") -> int:
        connection = self.connect(user)
        try:
            connection.select("INBOX")
            _, data = connection.search(None, "UNDELETED")
            return len(data[0].split())
        finally:
            connection.logout()

    def mailbox(self, name: str = "help", address: str = "help@desk.example", **extra):
        return Mailbox.objects.create(
            name=name,
            address=address,
            imap_host="127.0.0.1",
            imap_port=self.port,
            imap_ssl=False,
            imap_user="desk",
            imap_password=IMAP_PASSWORD,
            **extra,
        )


@pytest.fixture(scope="session")
def dovecot():
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if binary is None:
        pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
    # Not under pytest's temporary root: other pytest runs reset that to mode 0700, which
    # the dovecot user could then no longer enter.
    root = Path(tempfile.mkdtemp(prefix="thirdway-dovecot-"))
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    port = free_port()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(root=root, port=port, password=IMAP_PASSWORD)
    )
    root.chmod(0o755)
    shutil.chown(root / "mail", "dovecot", "dovecot")
    # dovecot daemonises: no pipes (the daemon would keep them open).
    subprocess.run(  # noqa: S603
        [binary, "-c", str(root / "dovecot.conf")],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Dovecot(root, port)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.connect().logout()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield server
    subprocess.run(  # noqa: S603
        [shutil.which("doveadm") or "/usr/bin/doveadm", "-c", str(root / "dovecot.conf"), "stop"],
        check=False,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def empty_inbox(dovecot):
    connection = dovecot.connect()
    connection.select("INBOX")
    connection.store("1:*", "+FLAGS", r"(\Deleted)") if dovecot.count() else None
    connection.expunge()
    connection.logout()
    return dovecot
