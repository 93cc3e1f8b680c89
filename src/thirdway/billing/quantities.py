"""What a monthly contract line bills: its quantity, counted from the client's records on the
billing date, with a note of where the count came from and the ids counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from thirdway.billing.models import ContractLine, Unit
from thirdway.clients.models import Asset, AssetKind, Contact

# Devices are the things a technician looks after; cloud services and software are not counted.
DEVICE_KINDS = sorted(set(AssetKind.values) - {AssetKind.CLOUD, AssetKind.SOFTWARE})


@dataclass(frozen=True)
class Count:
    quantity: Decimal
    source: str
    counted: list[int] = field(default_factory=list)


def count(line: ContractLine, on: dt.date) -> Count:
    client_id = line.contract.client_id
    if line.unit == Unit.DEVICE:
        ids = list(
            Asset.objects.filter(client_id=client_id, kind__in=DEVICE_KINDS)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return Count(
            Decimal(len(ids)), f"{len(ids)} devices among the client's assets on {on}", ids
        )
    if line.unit == Unit.USER:
        ids = list(
            Contact.objects.filter(client_id=client_id, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return Count(Decimal(len(ids)), f"{len(ids)} active contacts of the client on {on}", ids)
    return Count(Decimal(1), "flat monthly charge")
