"""Secret addresses of iCal feeds of expirations, made the way the on-call feed's are: a random
token shown once, only its digest kept; a new address replaces the old one."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from thirdway.audit.services import record
from thirdway.clients.models import Client
from thirdway.errors import require
from thirdway.vault.models import ExpiryFeed, ExpiryItem


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_follow(user, client: Client | None) -> bool:
    """Whoever sees expirations (of that client) may have a feed of them."""
    items = ExpiryItem.objects.for_user(user)
    if client is None:
        return user.is_network_staff or items.exists()
    return Client.objects.for_user(user).filter(pk=client.pk).exists() and (
        user.is_network_staff or items.filter(client=client).exists()
    )


@transaction.atomic
def reset_feed(actor, client: Client | None, *, source: str) -> str:
    """A new secret address for the actor's feed (of ``client``, or of every client they see);
    the old address stops working.  Returns the token, shown once."""
    require(may_follow(actor, client), "You do not see expirations there.")
    token = secrets.token_urlsafe(32)
    feed, _ = ExpiryFeed.objects.update_or_create(
        user=actor, client=client, defaults={"token_digest": feed_digest(token)}
    )
    where = f"client:{client.pk}" if client else f"user:{actor.pk}"
    record(actor, "expiry.feed_reset", feed, source=source, scope=where)
    return token


@transaction.atomic
def stop_feed(actor, feed: ExpiryFeed, *, source: str) -> None:
    require(feed.user_id == actor.pk, "Only its owner may stop a feed.")
    where = f"client:{feed.client_id}" if feed.client_id else f"user:{actor.pk}"
    record(actor, "expiry.feed_stop", feed, source=source, scope=where)
    feed.delete()


def items_of(token: str):
    """The feed behind ``token`` and the items it shows now, or (None, none)."""
    feed = (
        ExpiryFeed.objects.select_related("user", "client")
        .filter(token_digest=feed_digest(token), user__is_active=True)
        .first()
    )
    if feed is None:
        return None, ExpiryItem.objects.none()
    items = ExpiryItem.objects.for_user(feed.user).select_related("client")
    if feed.client_id is not None:
        if not Client.objects.for_user(feed.user).filter(pk=feed.client_id).exists():
            return None, ExpiryItem.objects.none()
        items = items.filter(client_id=feed.client_id)
    return feed, items
