"""The parent of ``thirdway serve``: starts its processes and stops them all together.

It imports the standard library only (no Django, no thirdway room): it lives as long as the
server does, so whatever it imported would be held the whole time for nothing.  The work
that needs Django (migrations, static files) runs in a child that ends before the server's
processes start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.5
STOP_SECONDS = 15


def run(argv: list[str]) -> int:
    """Run one command to its end (Ctrl+C stops it too); its exit code."""
    child = subprocess.Popen(argv)  # noqa: S603 - our own interpreter and arguments
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        return child.wait()


def supervise(commands: dict[str, list[str]], env: dict[str, str] | None = None) -> int:
    """Start the processes (``env`` added to their environment); when one ends or a signal
    arrives, stop them all."""
    environment = {**os.environ, **(env or {})}
    children = {
        name: subprocess.Popen(argv, env=environment)  # noqa: S603
        for name, argv in commands.items()
    }
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"thirdway: {name} stopped (exit {child.returncode}); stopping the rest")
                sys.stdout.flush()
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(POLL_SECONDS)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code
