"""Contracts and time: what a practice may record, and what is refused with the field named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import services
from thirdway.billing.models import Contract, ContractLine, TimeEntry

D = Decimal


def _refused(error: ValidationError) -> dict[str, str]:
    return {
        field: " ".join(e.message % (e.params or {}) for e in errors)
        for field, errors in error.error_dict.items()
    }


def test_contracts_of_one_kind_may_not_overlap(cast, books):
    with pytest.raises(ValidationError) as refused:
        services.create_contract(
            cast.admin,
            client=cast.acme,
            practice=cast.security,
            kind="managed",
            name="Second",
            starts_on=dt.date(2027, 1, 1),
            source=Source.CLI,
        )
    assert "Acme managed" in _refused(refused.value)["starts_on"]
    assert Contract.objects.filter(client=cast.acme, kind="managed").count() == 1


def test_a_contract_ended_before_the_next_starts_is_accepted(cast, books):
    services.update_contract(
        cast.admin, books.hours, {"ends_on": dt.date(2026, 12, 31)}, source=Source.CLI
    )
    follow = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="time_materials",
        name="Next year",
        starts_on=dt.date(2027, 1, 1),
        source=Source.CLI,
    )
    assert follow.pk
    assert AuditRecord.objects.for_object(follow).get().action == "contract.create"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price": D("-1.00")}, "price"),
        ({"unit": "hour"}, "unit"),
        ({"vat_category": "S", "vat_rate": D(0)}, "vat_rate"),
        ({"vat_category": "E", "vat_rate": D(20)}, "vat_rate"),
        ({"starts_on": dt.date(2025, 12, 1)}, "starts_on"),
        ({"vat_rate": D(120)}, "vat_rate"),
    ],
)
def test_a_bad_contract_line_is_refused_naming_the_field(cast, books, data, field):
    before = ContractLine.objects.count()
    values = {"description": "X", "unit": "flat", "price": D("10.00"), **data}
    with pytest.raises(ValidationError) as refused:
        services.add_contract_line(cast.admin, books.managed, source=Source.CLI, **values)
    assert field in _refused(refused.value)
    assert ContractLine.objects.count() == before


def test_only_a_practice_admin_manages_contracts(cast, books):
    with pytest.raises(PermissionDenied):
        services.add_contract_line(
            cast.partner,
            books.managed,
            description="X",
            unit="flat",
            price=D(1),
            source=Source.WEB,
        )


def test_time_keeps_the_raw_minutes_beside_the_billable_ones(cast, books, book_time):
    entry = book_time(cast.partner, books.partner_rate, 50, billable_minutes=30)
    assert (entry.worked_minutes, entry.billable_minutes) == (50, 30)
    assert entry.partner == cast.partner_record
    plain = book_time(cast.partner, books.partner_rate, 20)
    assert plain.billable_minutes == 20


def test_time_goes_on_a_line_of_the_bookers_role(cast, books, book_time):
    with pytest.raises(ValidationError) as refused:
        book_time(cast.associate, books.partner_rate, 30)
    assert "partner time" in _refused(refused.value)["contract_line"]
    with pytest.raises(ValidationError) as refused:
        book_time(cast.partner, books.flat, 30)
    assert "contract_line" in _refused(refused.value)
    assert not TimeEntry.objects.exists()


def test_a_partner_books_only_their_own_time(cast, books, book_time):
    with pytest.raises(ValidationError) as refused:
        book_time(cast.partner, books.partner_rate, 30, partner=cast.other_partner_record)
    assert "partner" in _refused(refused.value)
    entry = book_time(cast.admin, books.partner_rate, 30, partner=cast.other_partner_record)
    assert entry.partner == cast.other_partner_record


def test_time_outside_the_lines_dates_is_refused(cast, books, book_time):
    with pytest.raises(ValidationError) as refused:
        book_time(cast.partner, books.partner_rate, 30, day=dt.date(2025, 6, 1))
    assert "worked_on" in _refused(refused.value)


def test_split_rules_that_do_not_add_up_are_refused_naming_the_rule(cast, books):
    with pytest.raises(ValidationError) as refused:
        services.update_settings(cast.admin, cast.security, {"pool": D(30)}, source=Source.CLI)
    assert "add up to 120" in _refused(refused.value)["delivery"]
    settings = services.settings_of(cast.security)
    assert settings.pool == D(10)
    services.update_settings(
        cast.admin, cast.security, {"pool": D(30), "delivery": D(40)}, source=Source.CLI
    )
    assert services.settings_of(cast.security).pool == D(30)
