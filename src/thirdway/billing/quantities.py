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


class Counts:
    """The devices and active contacts of many clients, read in one query each (the run)."""

    def __init__(self, client_ids: list[int], on: dt.date) -> None:
        self.client_ids = sorted(set(client_ids))
        self.on = on
        self._devices: dict[int, list[int]] | None = None
        self._users: dict[int, list[int]] | None = None

    def _by_client(self, rows) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for start in range(0, len(self.client_ids), 5000):
            chunk = self.client_ids[start : start + 5000]
            for client_id, pk in (
                rows.filter(client_id__in=chunk).order_by("pk").values_list("client_id", "pk")
            ):
                found.setdefault(client_id, []).append(pk)
        return found

    def count(self, line: ContractLine, on: dt.date) -> Count:
        if on != self.on:
            return count(line, on)
        client_id = line.contract.client_id
        if line.unit == Unit.DEVICE:
            if self._devices is None:
                self._devices = self._by_client(Asset.objects.filter(kind__in=DEVICE_KINDS))
            ids = self._devices.get(client_id, [])
            return Count(
                Decimal(len(ids)), f"{len(ids)} devices among the client's assets on {on}", ids
            )
        if line.unit == Unit.USER:
            if self._users is None:
                self._users = self._by_client(Contact.objects.filter(is_active=True))
            ids = self._users.get(client_id, [])
            return Count(
                Decimal(len(ids)), f"{len(ids)} active contacts of the client on {on}", ids
            )
        return Count(Decimal(1), "flat monthly charge")
