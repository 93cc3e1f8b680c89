"""People losing access: rooms above accounts (the vault: rotation reminders for the secrets
the person revealed) register here at start-up, so accounts imports none of them.

The services that take access away call :func:`lost_access` in their transaction, after the
change: deactivating an account (which a partner leaving the network does too) and taking a
partner off a client's team.  A hook that raises rolls the change back whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# hook(actor, users, source)
AccessLostHook = Callable[[Any, list, str], None]
_HOOKS: list[AccessLostHook] = []


def on_access_lost(hook: AccessLostHook) -> None:
    """Call ``hook(actor, users, source)`` after someone lost access to something."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def lost_access(actor, users: Iterable, *, source: str) -> None:
    """Tell the registered rooms that ``users`` lost (some) access."""
    people = [user for user in users if user is not None]
    if not people:
        return
    for hook in list(_HOOKS):
        hook(actor, people, source)
