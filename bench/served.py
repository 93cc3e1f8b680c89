"""What the bench scripts that serve Thirdway share: a free port, the ``thirdway`` command of
this interpreter, a home holding the small demo, and waiting for the server to answer.
Imported by the scripts beside it (their folder is first on ``sys.path`` when run as ``python
bench/<script>.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def thirdway(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "thirdway", *args]
    return subprocess.run(command, env=env, check=True, **kwargs)  # noqa: S603


def demo_home(prefix: str, database_url: str = "", **settings: str) -> dict[str, str]:
    """The environment of a new home (``THIRDWAY_HOME`` under /tmp, plus ``settings``) holding
    the small demo: on SQLite, or on the PostgreSQL database ``database_url``, which is
    migrated and emptied first."""
    env = {**os.environ, "THIRDWAY_HOME": tempfile.mkdtemp(prefix=prefix), **settings}
    env.pop("THIRDWAY_DATABASE_URL", None)
    if database_url:
        env["THIRDWAY_DATABASE_URL"] = database_url
        thirdway("manage", "migrate", "-v", "0", env=env)
        thirdway("manage", "flush", "--no-input", env=env, stdout=subprocess.DEVNULL)
    thirdway("demo", "--size", "small", env=env, stdout=subprocess.DEVNULL)
    return env


def wait_for(url: str, seconds: float = 60) -> None:
    """Until ``url`` answers 200; after ``seconds`` the script stops, naming itself."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own server
                if answer.status == 200:
                    return
        except OSError:  # refused, reset or slow while the server starts
            if time.monotonic() > deadline:
                name = Path(sys.argv[0]).stem
                raise SystemExit(f"{name}: nothing answered at {url}") from None
        time.sleep(0.3)
