"""The parent of ``thirdway serve``: starts its processes and stops them all together."""

from __future__ import annotations

import signal
import subprocess
import time


def supervise(commands: dict[str, list[str]]) -> int:
    """Start the processes; when one ends or a signal arrives, stop them all."""
    children = {name: subprocess.Popen(argv) for name, argv in commands.items()}  # noqa: S603
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"thirdway: {name} stopped (exit {child.returncode}); stopping the rest")
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code
