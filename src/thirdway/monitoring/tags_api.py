"""API of monitoring's asset tags (a maintenance window may cover every asset with a tag)."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from thirdway.audit.models import Source
from thirdway.clients.models import Asset
from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.models import MAX_TAGS_PER_ASSET
from thirdway.monitoring.tags import set_asset_tags, tags_of
from thirdway.payloads import Payload

router = Router()


class AssetTagsOut(Schema):
    asset_id: int
    asset_name: str
    tags: list[str]


class AssetTagsIn(Payload, extra="forbid"):
    tags: list[Annotated[str, Field(max_length=40)]] = Field(
        max_length=MAX_TAGS_PER_ASSET,
        description="All the asset's tags (they replace its tags): lower-case letters, digits, "
        "'-', '_' or '.', at most 40 characters each.",
    )


def _assets(request: HttpRequest):
    return Asset.objects.filter(client__in=monitored_clients(request.auth)).select_related("client")


@router.get("/monitoring/clients/{client_id}/asset-tags", response=list[AssetTagsOut])
def list_asset_tags(request: HttpRequest, client_id: int):
    client = get_object_or_404(monitored_clients(request.auth), pk=client_id)
    assets = list(client.assets.all())
    found = tags_of(asset.pk for asset in assets)
    return [{"asset_id": a.pk, "asset_name": a.name, "tags": found.get(a.pk, [])} for a in assets]


@router.put("/monitoring/assets/{asset_id}/tags", response=AssetTagsOut)
def put_asset_tags(request: HttpRequest, asset_id: int, payload: AssetTagsIn):
    asset = get_object_or_404(_assets(request), pk=asset_id)
    tags = set_asset_tags(request.auth, asset, payload.tags, source=Source.API)
    return {"asset_id": asset.pk, "asset_name": asset.name, "tags": tags}
