"""Changing or deleting an expense or hardware item before it is billed: by a practice admin,
on its page or through the API, refused naming the field once a run billed it (take its line
off the draft first) or when the change is invalid, with nothing written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import AuditRecord, Source
from thirdway.billing import issuing, items
from thirdway.billing.models import BillableItem, InvoiceLine

from .test_items import API, router, run

D = Decimal


def _patch(client, item: BillableItem, payload: dict):
    return client.patch(
        f"{API}/{item.pk}", data=json.dumps(payload), content_type="application/json"
    )


def _snapshot() -> list[tuple]:
    return list(BillableItem.objects.order_by("pk").values_list())


def test_an_item_changed_before_the_run_is_billed_as_changed(cast):
    """One router at 95.00 instead of two at 89.90: the run bills 95.00, once."""
    item = router(cast)
    items.change_item(
        cast.admin, item, {"quantity": D(1), "unit_price": D("95.00")}, source=Source.CLI
    )
    assert run(cast).lines_made == 1
    line = InvoiceLine.objects.get(claim=f"item:{item.pk}")
    assert (line.quantity, line.unit_price, line.net) == (D(1), D("95.00"), D("95.00"))
    changed = AuditRecord.objects.get(action="billing.item.change")
    assert changed.changes["unit_price"] == ["89.90", "95.00"]


def test_an_item_deleted_before_the_run_is_not_billed(cast):
    item = router(cast)
    items.delete_item(cast.admin, item, source=Source.CLI)
    assert not BillableItem.objects.exists()
    assert run(cast).lines_made == 0
    deleted = AuditRecord.objects.get(action="billing.item.delete")
    assert deleted.changes["description"] == ["Wi-Fi router", None]


def test_a_billed_item_is_refused_until_its_line_comes_off_the_draft(cast):
    item = router(cast)
    run(cast)
    before = _snapshot()
    with pytest.raises(ValidationError) as refused:
        items.change_item(cast.admin, item, {"unit_price": D("1.00")}, source=Source.CLI)
    assert "invoice_line" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        items.delete_item(cast.admin, item, source=Source.CLI)
    assert "invoice_line" in refused.value.message_dict
    assert _snapshot() == before
    line = InvoiceLine.objects.get(claim=f"item:{item.pk}")
    issuing.remove_invoice_line(cast.admin, line, source=Source.CLI)
    items.change_item(cast.admin, item, {"unit_price": D("1.00")}, source=Source.CLI)
    assert BillableItem.objects.get().unit_price == D("1.00")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"unit_price": D("-1.00")}, "unit_price"),
        ({"quantity": D(0)}, "quantity"),
        ({"vat_category": "Z"}, "vat_rate"),
        ({"client": None}, "client"),
    ],
)
def test_an_invalid_change_is_refused_naming_the_field_with_nothing_written(cast, data, field):
    item = router(cast)
    before = _snapshot()
    with pytest.raises(ValidationError) as refused:
        items.change_item(cast.admin, item, data, source=Source.CLI)
    assert field in refused.value.message_dict
    assert _snapshot() == before


def test_only_a_practice_admin_changes_or_deletes_an_item(cast):
    item = router(cast)
    with pytest.raises(PermissionDenied):
        items.change_item(cast.other_partner, item, {"description": "X"}, source=Source.CLI)
    with pytest.raises(PermissionDenied):
        items.delete_item(cast.other_partner, item, source=Source.CLI)


def test_the_api_changes_and_deletes_an_item_not_billed(cast, api_as):
    admin = api_as(cast.admin)
    item = router(cast)
    ticket = admin.post(
        "/api/v1/tickets",
        data=json.dumps({"client": cast.globex.pk, "subject": "Router", "body_text": "Slow"}),
        content_type="application/json",
    ).json()["id"]
    answer = _patch(admin, item, {"unit_price": "95.00", "ticket": ticket})
    assert answer.status_code == 200, answer.content
    assert (answer.json()["unit_price"], answer.json()["ticket_id"]) == ("95.00", ticket)
    assert answer.json()["net"] == "190.00"
    cleared = _patch(admin, item, {"ticket": None})
    assert cleared.status_code == 200 and cleared.json()["ticket_id"] is None
    assert admin.delete(f"{API}/{item.pk}").status_code == 204
    assert admin.get(f"{API}/{item.pk}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"unit_price": "-1.00"}, "unit_price"),
        ({"description": "x" * 201}, "description"),
        ({"description": None}, "description"),
        ({"quantity": "100000000"}, "quantity"),
        ({"vat_rate": "101"}, "vat_rate"),
        ({"client": 1}, "client"),
        ({"ticket": 987654}, "ticket"),
    ],
)
def test_the_api_refuses_a_bad_change_naming_the_field(cast, api_as, payload, field):
    item = router(cast)
    before = _snapshot()
    answer = _patch(api_as(cast.admin), item, payload)
    assert answer.status_code == 400, answer.content
    assert field in answer.content.decode()
    assert _snapshot() == before


def test_the_api_refuses_a_billed_item_and_another_clients_contract(cast, api_as, books):
    admin = api_as(cast.admin)
    item = router(cast)
    acme_contract = books.managed.pk
    answer = _patch(admin, item, {"contract": acme_contract})
    assert answer.status_code == 400 and "contract" in answer.content.decode()
    run(cast)
    before = _snapshot()
    answer = _patch(admin, item, {"unit_price": "1.00"})
    assert answer.status_code == 400 and "invoice_line" in answer.content.decode()
    answer = admin.delete(f"{API}/{item.pk}")
    assert answer.status_code == 400 and "invoice_line" in answer.content.decode()
    assert _snapshot() == before


def test_whoever_does_not_manage_billing_is_refused_or_sees_nothing(cast, api_as):
    """Paula sees Acme's items (403: she does not manage billing); Oscar does not (404)."""
    item = router(cast, client=cast.acme)
    before = _snapshot()
    paula, oscar = api_as(cast.partner), api_as(cast.other_partner)
    assert _patch(paula, item, {"description": "Mine"}).status_code == 403
    assert paula.delete(f"{API}/{item.pk}").status_code == 403
    assert _patch(oscar, item, {"description": "Mine"}).status_code == 404
    assert oscar.delete(f"{API}/{item.pk}").status_code == 404
    assert _snapshot() == before


def test_the_page_changes_and_deletes_an_item_and_refuses_a_bad_price(cast, web_as):
    item = router(cast)
    browser = web_as(cast.admin)
    url = f"/billing/items/{item.pk}/"
    page = browser.get(url).content.decode()
    assert "Change Wi-Fi router" in page and "Delete" in page
    form = {
        "kind": "hardware",
        "description": "Wi-Fi router",
        "quantity": "1",
        "unit_cost": "61.00",
        "unit_price": "-5",
        "vat_category": "S",
        "vat_rate": "20",
        "incurred_on": "2026-11-12",
    }
    refused = browser.post(url, form)
    assert refused.status_code == 200 and "negative" in refused.content.decode()
    assert BillableItem.objects.get().unit_price == D("89.90")
    assert browser.post(url, {**form, "unit_price": "95.00"}).status_code == 302
    assert BillableItem.objects.get().unit_price == D("95.00")
    assert browser.post(f"{url}delete/").status_code == 302
    assert not BillableItem.objects.exists()


def test_the_pages_of_an_item_are_a_practice_admins(cast, web_as):
    item = router(cast, client=cast.acme)
    assert web_as(cast.partner).get(f"/billing/items/{item.pk}/").status_code == 403
    assert web_as(cast.partner).post(f"/billing/items/{item.pk}/delete/").status_code == 403
    assert web_as(cast.client_admin).get(f"/billing/items/{item.pk}/").status_code == 404
    assert BillableItem.objects.filter(pk=item.pk).exists()
