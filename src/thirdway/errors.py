"""The two refusals every service speaks: a value that is not allowed, and an act not allowed.

A refused value is a ``ValidationError`` keyed by the field, carrying what is allowed; the API
turns it into a 400 ``{field, problem, allowed}`` and forms show it beside the field.  A refused
act is a ``PermissionDenied`` (403).  Imports Django and nothing of ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

ADMIN_ONLY = "Only a practice admin may do this."


def invalid(field: str, message: str, allowed: str) -> ValidationError:
    """The error for a value of ``field`` that is not allowed (raise it).  ``message`` is taken
    as it is: a ``%`` in it (a value quoted back, say) is not a placeholder for the params."""
    literal = message.replace("%", "%%")
    return ValidationError({field: ValidationError(literal, params={"allowed": allowed})})


def require(allowed: bool, message: str) -> None:
    """Refuse the act with ``message`` unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


def require_admin(actor: Any, message: str = ADMIN_ONLY) -> None:
    """A practice admin, or the system itself (``None``: the command line, the worker)."""
    require(actor is None or actor.is_practice_admin, message)


def refuse_nulls(names: Iterable[str]) -> None:
    """A 400 naming each field given as null where a value is needed (a PATCH keeps a field's
    value by leaving the field out)."""
    nulls = sorted(names)
    if nulls:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be null.",
                    code="null",
                    params={"allowed": "a value; leave the field out to keep it as it is"},
                )
                for name in nulls
            }
        )
