"""Forked children that end with the process that forked them."""

from __future__ import annotations

import os
import signal

PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """A forked child ends with the process that forked it (Linux): a worker killed mid-work
    leaves its children's transactions rolled back, as it would have alone, rather than
    processes working on without it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the child finishes its work, then exits
        pass
    if os.getppid() != parent:  # it was gone before the signal was asked for
        os._exit(1)
