"""The signed token of a resolved ticket's rating link: minted here, so the mail room (its
resolution notice) and the insights room (which takes the rating) share one format without
importing each other.  Signed with its own salt; it expires after ``LINK_DAYS``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing

SALT = "thirdway.insights.csat"
LINK_DAYS = 14


class LinkExpired(Exception):
    """The token is genuine but older than ``LINK_DAYS``."""


class LinkForged(Exception):
    """The token was not made here, or was changed."""


def rating_token(ticket) -> str:
    """The ticket, its requester and the moment it was resolved, signed."""
    resolved = ticket.resolved_at.isoformat() if ticket.resolved_at else ""
    return signing.dumps({"t": ticket.pk, "c": ticket.requester_id, "r": resolved}, salt=SALT)


def read_rating_token(token: str) -> dict[str, Any]:
    """What a token says, or ``LinkExpired`` / ``LinkForged``."""
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkForged from None
    if not isinstance(data, dict):
        raise LinkForged
    return data
