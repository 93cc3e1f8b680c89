"""A private Postfix (Debian's package, installed by ``.ci/run``) for the mail tests: its own
configuration folder, queue and log in a temporary folder, SMTP on a free loopback port, and
local delivery to aliases, as a mail server on the desk's machine delivers into the pipe that
docs/mail.md documents.  It runs as root (Postfix's master must), like the CI."""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
myhostname = mx.desk.example
mydomain = desk.example
myorigin = desk.example
mydestination = desk.example, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps = {alias_maps}
alias_database = {alias_maps}
transport_maps = {transport_maps}
local_recipient_maps = $alias_maps
maillog_file_prefixes = {root}
maillog_file = {root}/postfix.log
syslog_name = thirdway-test-postfix
smtpd_banner = $myhostname ESMTP
biff = no
# A deferred message stays deferred until a test flushes the queue (``postfix flush``).
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 600s
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
{extra}
"""


def binary(name: str = "postfix") -> str | None:
    """Where Postfix's command ``name`` is (in /usr/sbin, often not on a user's PATH)."""
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postfix:
    """One private Postfix.  ``aliases`` maps an alias file's owner (a user name: local(8)
    runs an alias's command as the owner of the alias database, and as ``default_privs``,
    ``nobody``, when that is root) to its lines; ``master`` adds lines to master.cf and
    ``transports`` to the transport map."""

    def __init__(
        self,
        aliases: dict[str, list[str]],
        master: list[str] = (),
        transports: list[str] = (),
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="thirdway-postfix-"))
        self.root.chmod(0o755)
        self.config = self.root / "conf"
        self.port = free_port()
        for name in ("conf", "queue", "data"):
            (self.root / name).mkdir()
        shutil.chown(self.root / "data", "postfix")
        maps = [f"hash:{self.config / f'aliases{n}'}" for n in range(len(aliases))]
        transport = self.config / "transport"
        (self.config / "main.cf").write_text(
            MAIN_CF.format(
                root=self.root,
                alias_maps=", ".join(maps),
                transport_maps=f"hash:{transport}",
            )
        )
        (self.config / "master.cf").write_text(
            MASTER_CF.format(port=self.port, extra="\n".join(master))
        )
        for number, (owner, lines) in enumerate(aliases.items()):
            path = self.config / f"aliases{number}"
            path.write_text("".join(f"{line}\n" for line in lines))
            self._postmap("postalias", path)
            for made in [path, *self.config.glob(f"aliases{number}.*")]:
                shutil.chown(made, owner)
        transport.write_text("".join(f"{line}\n" for line in transports))
        self._postmap("postmap", transport)
        self.postfix("check")
        self.postfix("start")
        self._wait_for_smtp()

    def _postmap(self, command: str, path: Path) -> None:
        subprocess.run(  # noqa: S603
            [binary(command) or command, "-c", str(self.config), str(path)],
            check=True,
            timeout=60,
        )

    def postfix(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [binary() or "postfix", "-c", str(self.config), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _wait_for_smtp(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def send(self, raw: bytes, sender: str, alias: str) -> None:
        """Over SMTP, as another mail server would, to ``alias`` at the desk's domain."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as smtp:
            smtp.sendmail(sender, [f"{alias}@desk.example"], raw)

    def queue(self) -> list[dict]:
        """The messages in the queue, as ``postqueue -j`` lists them (a deferred one with the
        reason of its last try)."""
        done = subprocess.run(  # noqa: S603
            [binary("postqueue") or "/usr/sbin/postqueue", "-c", str(self.config), "-j"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        try:
            self.postfix("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
