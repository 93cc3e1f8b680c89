"""What the bench scripts that serve Thirdway share: a free port, the ``thirdway`` command of
this interpreter, and waiting for the server to answer.  Imported by the scripts beside it
(their folder is first on ``sys.path`` when run as ``python bench/<script>.py``)."""

from __future__ import annotations

import socket
import subprocess
import sys
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
