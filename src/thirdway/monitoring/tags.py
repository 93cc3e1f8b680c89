"""Monitoring's tags on a client's assets ("backup", "core-switch"), so that a maintenance
window can cover every asset with a tag.  The only writer of ``AssetTag``."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db import transaction

from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.monitoring.access import can_manage
from thirdway.monitoring.models import MAX_TAGS_PER_ASSET, TAG_PATTERN, AssetTag

ALLOWED = "lower-case letters, digits, '-', '_' or '.', at most 40, starting with a letter or digit"


def clean_tag(value: str, field: str = "tag") -> str:
    tag = (value or "").strip().lower()
    if not re.fullmatch(TAG_PATTERN, tag):
        raise invalid(field, f"{value[:50]!r} is not a tag.", ALLOWED)
    return tag


def clean_tags(values: list[str], field: str = "tags") -> list[str]:
    tags = sorted({clean_tag(value, field) for value in values if value.strip()})
    if len(tags) > MAX_TAGS_PER_ASSET:
        raise invalid(field, "Too many tags.", f"at most {MAX_TAGS_PER_ASSET} per asset")
    return tags


def tags_of(asset_ids) -> dict[int, list[str]]:
    """The tags of each asset, in one query."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = AssetTag.objects.filter(asset_id__in=list(asset_ids)).order_by("name")
    for asset_id, name in rows.values_list("asset_id", "name"):
        found[asset_id].append(name)
    return found


@transaction.atomic
def set_asset_tags(actor, asset, values: list[str], *, source: str) -> list[str]:
    """Replace the asset's tags; a refused tag changes nothing."""
    require(can_manage(actor, asset.client), "You may not change this client's monitoring.")
    tags = clean_tags(values)
    before = sorted(AssetTag.objects.filter(asset=asset).values_list("name", flat=True))
    if tags == before:
        return tags
    AssetTag.objects.filter(asset=asset).exclude(name__in=tags).delete()
    AssetTag.objects.bulk_create(
        [AssetTag(client_id=asset.client_id, asset=asset, name=name) for name in tags],
        ignore_conflicts=True,
    )
    record(
        actor,
        "monitoring.asset.tags",
        asset,
        source=source,
        scope=f"client:{asset.client_id}",
        changes={"tags": [before, tags]},
    )
    return tags
