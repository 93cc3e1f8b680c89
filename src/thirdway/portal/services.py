"""Signing client contacts in to the portal: who may, and one-time links sent by e-mail.

A link's token is 32 random bytes, shown only in the e-mail; the table keeps its SHA-256 digest.
A link works once, for 15 minutes.  At most ``LINKS_PER_HOUR`` links are sent to one address in
an hour.  Whoever asks gets the same answer whether or not the address belongs to someone, so
the form cannot be used to find out who has an account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from thirdway.accounts.models import CLIENT_ROLES
from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.clients.models import Contact
from thirdway.portal.models import SignInLink

logger = logging.getLogger(__name__)

LINK_LIFETIME = dt.timedelta(minutes=15)
LINKS_PER_HOUR = 5
THROTTLE_WINDOW = dt.timedelta(hours=1)
# Rows are kept a day (for the throttle and for a look back), then swept when links are asked.
KEEP_FOR = dt.timedelta(days=1)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100


def portal_contact(user) -> Contact | None:
    """The active contact record behind a signed-in client contact, or None (not a portal user)."""
    if not (user.is_authenticated and user.is_active and user.role in CLIENT_ROLES):
        return None
    contact = Contact.objects.filter(user=user, is_active=True).select_related("client").first()
    return contact


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_address(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class IssuedLink:
    user_id: int
    address: str
    token: str


@transaction.atomic
def issue_sign_in_links(email: str) -> list[IssuedLink]:
    """New links for the active contacts with a login at ``email`` (none when throttled).

    An address may belong to contacts at two clients; each gets a link of their own.
    """
    address = normalise_address(email)
    now = timezone.now()
    SignInLink.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    recent = SignInLink.objects.filter(email=address, created_at__gte=now - THROTTLE_WINDOW).count()
    contacts = (
        Contact.objects.with_email(address)
        .filter(
            is_active=True,
            user__is_active=True,
            user__role__in=CLIENT_ROLES,
        )
        .order_by("pk")
    )
    issued = []
    for contact in contacts:
        if recent >= LINKS_PER_HOUR:
            logger.info("Sign-in links throttled for an address (%s in the last hour)", recent)
            break
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = SignInLink.objects.create(
            user_id=contact.user_id,
            email=address,
            digest=token_digest(token),
            expires_at=now + LINK_LIFETIME,
        )
        record(None, "portal.sign_in_link", link, source=Source.WEB)
        recent += 1
        issued.append(IssuedLink(contact.user_id, contact.email, token))
    return issued


def send_sign_in_links(email: str, url_for: Callable[[str], str]) -> int:
    """Issue and mail the links for ``email``; ``url_for(token)`` makes the absolute link.

    Returns how many were sent, for logs only: callers must not show it to the asker.
    """
    sent = 0
    for link in issue_sign_in_links(email):
        url = url_for(link.token)
        body = (
            "Hello,\n\n"
            "Someone (we hope you) asked to sign in to the Thirdway client portal with this "
            "address. Open this link to sign in:\n\n"
            f"{url}\n\n"
            f"The link works once, within {int(LINK_LIFETIME.total_seconds() // 60)} minutes. "
            "If you did not ask for it, ignore this message: nobody can sign in without it.\n"
        )
        try:
            send_mail("Your sign-in link for the Thirdway portal", body, None, [link.address])
        except OSError:
            # The asker sees the same page either way; the failure is for the operators.
            logger.exception("Could not send a portal sign-in link")
        else:
            sent += 1
    return sent


def _usable(token: str):
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return SignInLink.objects.none()
    return SignInLink.objects.filter(
        digest=token_digest(token), used_at__isnull=True, expires_at__gt=timezone.now()
    )


def link_is_usable(token: str) -> bool:
    """Whether the link would sign someone in now (without using it up)."""
    link = _usable(token).select_related("user").first()
    return link is not None and portal_contact(link.user) is not None


@transaction.atomic
def redeem_sign_in_link(token: str):
    """The user a link signs in, using it up; None when it is unknown, used, expired, or its
    contact may no longer sign in.  Using a link retires the person's other unused links."""
    now = timezone.now()
    usable = _usable(token)
    link = usable.select_related("user").first()
    # The conditional update is the claim: of two simultaneous uses, only one changes the row.
    if link is None or usable.filter(pk=link.pk).update(used_at=now) != 1:
        return None
    user = link.user
    if portal_contact(user) is None:
        return None
    SignInLink.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    record(user, "portal.sign_in_by_link", link, source=Source.WEB)
    return user
