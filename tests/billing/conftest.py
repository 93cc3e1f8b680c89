"""The business around the base cast: contracts for both clients, time booked on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from support.smtp import smtp_server  # noqa: F401  (a real SMTP server, for the block mails)
from thirdway.audit.models import Source
from thirdway.billing import services
from thirdway.billing.models import Contract, ContractLine

from .documents import invoices  # noqa: F401  (the approved invoices of the document tests)

D = Decimal
MONTH = dt.date(2026, 11, 1)


@dataclass
class Books:
    managed: Contract
    hours: Contract
    globex_managed: Contract
    flat: ContractLine
    per_device: ContractLine
    per_user: ContractLine
    partner_rate: ContractLine
    associate_rate: ContractLine
    globex_flat: ContractLine


def contract(cast, client, kind, name, **extra) -> Contract:
    return services.create_contract(
        cast.admin,
        client=client,
        practice=cast.security,
        kind=kind,
        name=name,
        starts_on=dt.date(2026, 1, 1),
        source=Source.CLI,
        **extra,
    )


def line(cast, of, description, unit, price, **extra) -> ContractLine:
    return services.add_contract_line(
        cast.admin,
        of,
        description=description,
        unit=unit,
        price=D(price),
        source=Source.CLI,
        **extra,
    )


def ten_hour_block(cast, price, **extra) -> tuple[Contract, ContractLine]:
    """A block of ten hours for Acme, with one hourly support line at ``price``."""
    made = contract(cast, cast.acme, "block_hours", "Ten hours", block_minutes=600, **extra)
    return made, line(cast, made, "Support", "hour", price)


@pytest.fixture
def books(cast) -> Books:
    managed = contract(cast, cast.acme, "managed", "Acme managed", originator=cast.partner_record)
    hours = contract(cast, cast.acme, "time_materials", "Acme projects")
    globex_managed = contract(
        cast, cast.globex, "managed", "Globex managed", originator=cast.other_partner_record
    )
    return Books(
        managed=managed,
        hours=hours,
        globex_managed=globex_managed,
        flat=line(cast, managed, "Monitoring", "flat", "100.00"),
        per_device=line(cast, managed, "Device care", "device", "12.50"),
        per_user=line(
            cast, managed, "User support", "user", "9.99", vat_category="Z", vat_rate=D(0)
        ),
        partner_rate=line(cast, hours, "Partner time", "hour", "120.00", role="partner"),
        associate_rate=line(cast, hours, "Associate time", "hour", "80.00", role="associate"),
        globex_flat=line(cast, globex_managed, "Monitoring", "flat", "200.00"),
    )


@pytest.fixture
def book_time(cast):
    def book(actor, contract_line, minutes, *, day=dt.date(2026, 11, 10), **extra):
        return services.record_time(
            actor,
            contract_line=contract_line,
            worked_on=day,
            worked_minutes=minutes,
            source=Source.CLI,
            **extra,
        )

    return book
