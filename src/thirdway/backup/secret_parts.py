"""Secrets kept outside the database that a backup's secrets file carries beside the secret key.

A room whose data cannot be read without a secret of its own (the vault's master keys) registers
a part here at start-up, so backup imports none of them.  A part exports what it needs as JSON
when a backup is taken with ``--with-secrets``, and puts it back when that file is given to
``thirdway restore --secrets``.  Both answer in sentences that name files and key ids, never
key material.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SecretPart:
    """One room's share of the secrets file."""

    name: str
    # What to keep (JSON), and warnings for the person taking the backup.
    export: Callable[[], tuple[Any, list[str]]]
    # Put it back in this installation; what was done, in sentences.
    restore: Callable[[Any], list[str]]


_parts: dict[str, SecretPart] = {}


def register(part: SecretPart) -> None:
    _parts[part.name] = part


def parts() -> list[SecretPart]:
    return [_parts[name] for name in sorted(_parts)]


def part(name: str) -> SecretPart | None:
    return _parts.get(name)
