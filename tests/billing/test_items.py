"""Expenses and hardware: recorded on a page or through the API, billed once by the next run
(never twice, even when the run is retried or races another), negative prices refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from thirdway.audit.models import Source
from thirdway.billing import invoicing, issuing, items
from thirdway.billing.models import BillableItem, Invoice, InvoiceLine
from thirdway.billing.proposals import proposals
from thirdway.billing.services import settings_of

D = Decimal
NOVEMBER = dt.date(2026, 11, 1)
API = "/api/v1/billing/items"


def router(cast, client=None, **extra) -> BillableItem:
    """Two routers at 89.90 (cost 61.00): net 179.80, standard-rated at 20 %."""
    data = {
        "practice": cast.security,
        "client": client or cast.globex,
        "kind": "hardware",
        "description": "Wi-Fi router",
        "quantity": D(2),
        "unit_cost": D("61.00"),
        "unit_price": D("89.90"),
        "incurred_on": dt.date(2026, 11, 12),
        **extra,
    }
    return items.record_item(cast.admin, source=Source.CLI, **data)


def run(cast, month=NOVEMBER):
    return invoicing.run_invoices(cast.admin, cast.security, month, source=Source.CLI)


def test_the_next_run_bills_an_item_once_even_for_a_client_without_contracts(cast):
    item = router(cast)
    assert run(cast).lines_made == 1
    line = InvoiceLine.objects.get(claim=f"item:{item.pk}")
    assert (line.description, line.quantity, line.unit_price, line.net) == (
        "Wi-Fi router",
        D(2),
        D("89.90"),
        D("179.80"),
    )
    assert (line.vat_category, line.vat_rate) == ("S", D("20.00"))
    assert line.quantity_source == "hardware of 2026-11-12, billed once"
    invoice = line.invoice
    assert (invoice.client, invoice.net, invoice.tax, invoice.gross) == (
        cast.globex,
        D("179.80"),
        D("35.96"),
        D("215.76"),
    )
    item.refresh_from_db()
    assert item.invoice_line == line and items.state_of(item) == "invoiced"
    assert run(cast).lines_made == 0
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 0
    assert InvoiceLine.objects.filter(description="Wi-Fi router").count() == 1


def test_a_retried_run_with_what_it_read_before_bills_nothing_twice(cast):
    router(cast)
    stale = list(proposals(cast.security, NOVEMBER).values())
    first = run(cast)
    assert first.lines_made == 1
    retry = invoicing.InvoiceRun.objects.create(practice=cast.security, month=NOVEMBER)
    currency = settings_of(cast.security).currency
    for client, lines in stale:
        assert invoicing._bill_client(retry, currency, client, lines) == 0
    assert InvoiceLine.objects.filter(description="Wi-Fi router").count() == 1
    assert Invoice.objects.count() == 1


def test_an_item_of_a_later_month_waits_for_its_run(cast):
    router(cast, incurred_on=dt.date(2026, 12, 3))
    assert run(cast).lines_made == 0
    assert run(cast, dt.date(2026, 12, 1)).lines_made == 1


def test_taking_the_line_off_a_draft_frees_the_item_for_the_next_run(cast):
    item = router(cast)
    run(cast)
    line = InvoiceLine.objects.get(claim=f"item:{item.pk}")
    issuing.remove_invoice_line(cast.admin, line, source=Source.CLI)
    item.refresh_from_db()
    assert item.invoice_line is None
    assert run(cast).lines_made == 1
    assert InvoiceLine.objects.filter(description="Wi-Fi router").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit_price": D("-1.00")}, "unit_price"),
        ({"unit_cost": D("-0.01")}, "unit_cost"),
        ({"quantity": D(0)}, "quantity"),
        ({"vat_category": "Z"}, "vat_rate"),
        ({"description": "x" * 201}, "description"),
    ],
)
def test_bad_items_are_refused_naming_the_field(cast, change, field):
    with pytest.raises(ValidationError) as refused:
        router(cast, **change)
    assert field in refused.value.message_dict
    assert not BillableItem.objects.exists()


def test_an_item_names_only_a_contract_of_its_own_client(cast):
    from thirdway.billing import services

    acme = services.create_contract(
        cast.admin,
        client=cast.acme,
        practice=cast.security,
        kind="managed",
        name="Acme managed",
        starts_on=dt.date(2026, 1, 1),
        source=Source.CLI,
    )
    with pytest.raises(ValidationError) as refused:
        router(cast, contract=acme)
    assert "contract" in refused.value.message_dict
    assert router(cast, client=cast.acme, contract=acme).contract == acme


def body(cast, **change) -> dict:
    return {
        "practice": cast.security.pk,
        "client": cast.globex.pk,
        "kind": "expense",
        "description": "Train ticket to the client",
        "quantity": "1",
        "unit_cost": "42.50",
        "unit_price": "42.50",
        "incurred_on": "2026-11-05",
        **change,
    }


def test_the_api_records_lists_and_refuses_a_negative_price(cast, api_as):
    admin = api_as(cast.admin)
    made = admin.post(API, body(cast), content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "unbilled" and made.json()["net"] == "42.50"
    refused = admin.post(API, body(cast, unit_price="-5"), content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "unit_price"
    assert BillableItem.objects.count() == 1
    run(cast)
    listed = admin.get(f"{API}?state=invoiced").json()["items"]
    assert [row["id"] for row in listed] == [made.json()["id"]]
    assert admin.get(f"{API}?state=unbilled").json()["items"] == []


def test_other_clients_and_outsiders_get_404_and_only_admins_record(cast, api_as):
    item = router(cast)  # Globex's: Paula serves Acme only
    clients = {user: api_as(user) for user in (cast.partner, cast.client_admin, cast.outsider)}
    clients[cast.other_client_admin] = api_as(cast.other_client_admin)
    for client in clients.values():
        assert client.get(f"{API}/{item.pk}").status_code == 404
        assert client.get(API).json()["items"] == []
    assert api_as(cast.other_partner).get(f"{API}/{item.pk}").status_code == 200
    refused = clients[cast.partner].post(
        API, body(cast, client=cast.acme.pk), content_type="application/json"
    )
    assert refused.status_code == 403
    assert BillableItem.objects.count() == 1


def test_the_page_records_an_item_and_refuses_a_negative_price(cast, web_as):
    page = web_as(cast.admin)
    form = {
        "practice": cast.security.pk,
        "client": cast.globex.pk,
        "kind": "hardware",
        "description": "Switch",
        "quantity": "1",
        "unit_cost": "100",
        "unit_price": "-130",
        "vat_category": "S",
        "vat_rate": "20",
        "incurred_on": "2026-11-05",
    }
    bad = page.post("/billing/items/new/", form)
    assert bad.status_code == 200 and "negative" in bad.content.decode()
    assert not BillableItem.objects.exists()
    good = page.post("/billing/items/new/", {**form, "unit_price": "130"})
    assert good.status_code == 302
    listed = page.get("/billing/items/").content.decode()
    assert "Switch" in listed and "not billed yet" in listed
    assert web_as(cast.client_admin).get("/billing/items/").status_code == 404


def test_the_item_lists_ask_as_many_queries_for_many_items_as_for_one(cast, web_as, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page, api = web_as(cast.admin), api_as(cast.admin)

    def queries() -> list[int]:
        counts = []
        for client, url in ((page, "/billing/items/"), (api, API)):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    router(cast)
    run(cast)
    queries()  # the token's first use is recorded once
    few = queries()
    for day in range(1, 6):
        router(cast, client=cast.acme, incurred_on=dt.date(2026, 11, day))
    router(cast, incurred_on=dt.date(2026, 12, 1))
    run(cast)
    assert BillableItem.objects.filter(invoice_line__isnull=False).count() == 6
    assert queries() == few
