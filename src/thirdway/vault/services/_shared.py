"""What the vault's services share: the audit scope, the permission check, linked rows."""

from __future__ import annotations

from thirdway.access import find_owned
from thirdway.clients.models import Asset, Site
from thirdway.errors import require
from thirdway.vault.access import can_keep

MAX_REASON = 250
MIN_REASON = 4


def scope(client) -> str:
    return f"client:{client.pk}"


def require_keeper(actor, client) -> None:
    require(
        actor is None or can_keep(actor, client),
        "Only the practice admins, the desk and the client's partners may change its vault.",
    )


def linked(client, site_id, asset_id) -> dict:
    """The site and asset of the client named by id (a 400 for another client's)."""
    return {
        "site": find_owned(Site.objects.all(), client, "site", site_id),
        "asset": find_owned(Asset.objects.all(), client, "asset", asset_id),
    }
