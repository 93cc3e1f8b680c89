"""Monthly lines prorated by days, billed in arrears or in advance, each invoice line naming the
days it covers.  Every figure is worked out by hand in the test's docstring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from thirdway.audit.models import Source
from thirdway.billing import invoicing, services
from thirdway.billing.models import InvoiceLine
from thirdway.billing.proposals import prorated

D = Decimal
NOVEMBER = dt.date(2026, 11, 1)


def managed(cast, client=None, starts_on=dt.date(2026, 1, 1), **extra):
    return services.create_contract(
        cast.admin,
        client=client or cast.acme,
        practice=cast.security,
        kind="managed",
        name="Managed",
        starts_on=starts_on,
        source=Source.CLI,
        **extra,
    )


def add(cast, contract, description, price, unit="flat", **extra):
    return services.add_contract_line(
        cast.admin,
        contract,
        description=description,
        unit=unit,
        price=D(price),
        source=Source.CLI,
        **extra,
    )


def run(cast, month=NOVEMBER):
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


def billed(description_start: str) -> list[tuple]:
    lines = InvoiceLine.objects.filter(description__startswith=description_start).order_by("pk")
    return [
        (
            line.description,
            line.quantity,
            line.unit_price,
            line.net,
            line.period_start,
            line.period_end,
        )
        for line in lines
    ]


def test_the_proration_rounds_half_up_to_the_cent():
    """10.05 for 15 of 30 days is 5.025: half up gives 5.03 where half-even would give 5.02."""
    assert prorated(D("10.05"), 15, 30) == D("5.03")
    assert prorated(D("100.00"), 11, 30) == D("36.67")  # 36.666...
    assert prorated(D("100.00"), 30, 30) == D("100.00")
    assert prorated(D("100.00"), 14, 28) == D("50.00")  # half of February 2027


def test_a_line_starting_mid_month_bills_its_days_only(cast):
    """From 20 November: 11 of 30 days; 100.00 x 11 / 30 = 36.666... -> 36.67.  Per device,
    12.50 x 11 / 30 = 4.5833... -> 4.58 a device, x 2 devices = 9.16."""
    contract = managed(cast)
    add(cast, contract, "Monitoring", "100.00", starts_on=dt.date(2026, 11, 20))
    add(cast, contract, "Device care", "12.50", unit="device", starts_on=dt.date(2026, 11, 20))
    run(cast)
    end = dt.date(2026, 11, 30)
    start = dt.date(2026, 11, 20)
    assert billed("Monitoring") == [
        (
            "Monitoring (2026-11-20 to 2026-11-30, 11/30 days)",
            D(1),
            D("36.67"),
            D("36.67"),
            start,
            end,
        )
    ]
    assert billed("Device care") == [
        (
            "Device care (2026-11-20 to 2026-11-30, 11/30 days)",
            D(2),
            D("4.58"),
            D("9.16"),
            start,
            end,
        )
    ]


def test_a_contract_ending_mid_month_bills_to_its_end_then_stops(cast):
    """Ends 9 November: 90.00 x 9 / 30 = 27.00; December bills nothing."""
    contract = managed(cast, ends_on=dt.date(2026, 11, 9))
    add(cast, contract, "Monitoring", "90.00", ends_on=dt.date(2026, 11, 9))
    run(cast)
    assert billed("Monitoring") == [
        (
            "Monitoring (2026-11-01 to 2026-11-09, 9/30 days)",
            D(1),
            D("27.00"),
            D("27.00"),
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 9),
        )
    ]
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 0


def test_a_price_change_mid_month_splits_the_month_between_old_and_new(cast):
    """120.00 to 10 November (10/30 days: 40.00), then 150.00 (20/30 days: 100.00)."""
    contract = managed(cast)
    old = add(cast, contract, "Backup", "120.00")
    new = services.change_line_from(
        cast.admin, old, dt.date(2026, 11, 11), price=D("150.00"), source=Source.CLI
    )
    old.refresh_from_db()
    assert old.ends_on == dt.date(2026, 11, 10)
    assert (new.starts_on, new.price, new.description) == (dt.date(2026, 11, 11), D(150), "Backup")
    run(cast)
    assert [(row[0], row[3]) for row in billed("Backup")] == [
        ("Backup (2026-11-01 to 2026-11-10, 10/30 days)", D("40.00")),
        ("Backup (2026-11-11 to 2026-11-30, 20/30 days)", D("100.00")),
    ]


def test_a_quantity_change_mid_month_prorates_each_quantity(cast):
    """5 licences at 8.00 to 20 November: 8.00 x 20 / 30 = 5.333... -> 5.33, x 5 = 26.65;
    then 8 licences: 8.00 x 10 / 30 = 2.666... -> 2.67, x 8 = 21.36."""
    contract = managed(cast)
    old = add(cast, contract, "Licences", "8.00", quantity=D(5))
    services.change_line_from(
        cast.admin, old, dt.date(2026, 11, 21), quantity=D(8), source=Source.CLI
    )
    run(cast)
    assert [row[1:4] for row in billed("Licences")] == [
        (D(5), D("5.33"), D("26.65")),
        (D(8), D("2.67"), D("21.36")),
    ]


def test_advance_billing_bills_the_next_month_once(cast):
    """A run for November bills December's 310.00 in advance (the whole month); a second run
    for November bills nothing new; the run for December bills January."""
    contract = managed(cast)
    add(cast, contract, "Support plan", "310.00", timing="advance")
    assert run(cast).lines_made == 1
    assert billed("Support plan") == [
        (
            "Support plan (2026-12)",
            D(1),
            D("310.00"),
            D("310.00"),
            dt.date(2026, 12, 1),
            dt.date(2026, 12, 31),
        )
    ]
    assert run(cast).lines_made == 0
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 1
    assert billed("Support plan")[-1][0] == "Support plan (2027-01)"
    line = InvoiceLine.objects.filter(description__startswith="Support plan").first()
    assert line.quantity_source == "flat monthly charge; billed in advance"


def test_advance_billing_of_a_contract_ending_next_month_is_prorated(cast):
    """Ends 15 December: the November run bills 15 of December's 31 days of 310.00 = 150.00."""
    contract = managed(cast, ends_on=dt.date(2026, 12, 15))
    add(cast, contract, "Support plan", "310.00", timing="advance", ends_on=dt.date(2026, 12, 15))
    run(cast)
    assert [row[3] for row in billed("Support plan")] == [D("150.00")]
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 0


def test_a_contract_starting_next_month_is_billed_in_advance_only(cast):
    """Starts 1 December: the November run bills its advance line, not its arrears line."""
    contract = managed(cast, starts_on=dt.date(2026, 12, 1))
    add(cast, contract, "Ahead", "50.00", timing="advance")
    add(cast, contract, "Behind", "40.00")
    run(cast)
    assert [row[0] for row in billed("Ahead")] == ["Ahead (2026-12)"]
    assert billed("Behind") == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"unit": "device", "quantity": D(3)}, "quantity"),
        ({"unit": "flat", "quantity": D(0)}, "quantity"),
        ({"unit": "flat", "timing": "sometimes"}, "timing"),
    ],
)
def test_a_bad_line_is_refused_naming_the_field(cast, data, field):
    contract = managed(cast)
    with pytest.raises(ValidationError) as refused:
        add(cast, contract, "Bad", "10.00", **data)
    assert field in refused.value.message_dict
    assert not contract.lines.exists()


def test_a_change_outside_the_line_or_with_nothing_new_is_refused(cast):
    contract = managed(cast)
    line = add(cast, contract, "Backup", "120.00")
    for day, data, field in [
        (dt.date(2026, 1, 1), {"price": D(1)}, "effective_on"),
        (dt.date(2026, 11, 11), {}, "price"),
        (dt.date(2026, 11, 11), {"quantity": D(0)}, "quantity"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.change_line_from(cast.admin, line, day, source=Source.CLI, **data)
        assert field in refused.value.message_dict
    assert contract.lines.count() == 1


def test_the_api_changes_a_line_from_a_day_and_hides_other_clients(cast, api_as):
    contract = managed(cast)
    line = add(cast, contract, "Backup", "120.00")
    url = f"/api/v1/contracts/{contract.pk}/lines/{line.pk}/change"
    body = {"effective_on": "2026-11-11", "price": "150.00"}
    admin = api_as(cast.admin)
    made = admin.post(url, body, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["starts_on"] == "2026-11-11" and made.json()["price"] == "150.00"
    refused = admin.post(
        url, {"effective_on": "2026-11-11", "price": "-1"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "price"
    for user in (cast.client_admin, cast.other_client_admin, cast.outsider):
        assert api_as(user).post(url, body, content_type="application/json").status_code == 404


def test_the_change_page_takes_a_day_and_refuses_a_bad_one(cast, web_as):
    contract = managed(cast)
    line = add(cast, contract, "Backup", "120.00")
    page = web_as(cast.admin)
    url = f"/billing/contracts/{contract.pk}/lines/{line.pk}/change/"
    bad = page.post(url, {"effective_on": "2025-01-01", "price": "150"})
    assert bad.status_code == 200 and "outside the line" in bad.content.decode()
    good = page.post(url, {"effective_on": "2026-11-11", "price": "150"})
    assert good.status_code == 302
    detail = page.get(f"/billing/contracts/{contract.pk}/").content.decode()
    assert "2026-11-10" in detail and "150.00" in detail
