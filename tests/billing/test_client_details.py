"""A client's billing details: the buyer's VAT identifier, bounded and validated, changed on a
page and through the API, and carried by e-invoices, so a reverse-charge e-invoice is made
(and passes the EN 16931 rules) once the client has one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import issuing
from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import facts_of
from thirdway.billing.documents.ubl import ubl_xml
from thirdway.billing.models import ClientBillingDetails, Invoice

from .documents import approve, drafts, seller_settings
from .einvoice_check import CII, UBL, fatal, rule_failures, schema_errors

API = "/api/v1"
VAT_ID = "DE123456789"


def reverse_charge_invoice(cast, books, book_time) -> Invoice:
    """Globex's November with a reverse-charge line of 500.00 beside its standard-rated one."""
    seller_settings(cast)
    _, globex = drafts(cast, books, book_time)
    issuing.add_invoice_line(
        cast.admin,
        globex,
        description="Consulting (reverse charge)",
        quantity=Decimal(2),
        unit_price=Decimal("250.00"),
        vat_category="AE",
        vat_rate=Decimal(0),
        source=Source.CLI,
    )
    return approve(cast, globex)


def details_url(client) -> str:
    return f"{API}/billing/client-details/{client.pk}"


def test_a_reverse_charge_e_invoice_waits_for_the_buyers_vat_id_then_passes_the_rules(
    cast, books, book_time, api_as
):
    invoice = reverse_charge_invoice(cast, books, book_time)
    admin = api_as(cast.admin)
    for kind in ("facturx", "ubl"):
        answer = admin.get(f"{API}/invoices/{invoice.pk}/{kind}")
        assert answer.status_code == 409
        assert "billing details" in answer.json()["detail"]
    changed = admin.patch(
        details_url(cast.globex), {"vat_id": "de 123 456 789"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {"client_id": cast.globex.pk, "vat_id": VAT_ID}
    for kind in ("facturx", "ubl"):
        assert admin.get(f"{API}/invoices/{invoice.pk}/{kind}").status_code == 200
    facts = facts_of(invoice)
    assert facts.buyer.vat_id == VAT_ID
    for write, syntax in ((cii_xml, CII), (ubl_xml, UBL)):
        xml = write(facts)
        assert VAT_ID.encode() in xml
        assert schema_errors(xml, syntax) == []
        assert fatal(rule_failures(xml, syntax)) == []


def test_without_the_buyers_vat_id_the_rules_report_the_reverse_charge(cast, books, book_time):
    """The check the 409 spares the client: BR-AE-02 wants the buyer's VAT identifier."""
    facts = facts_of(reverse_charge_invoice(cast, books, book_time))
    for write, syntax in ((cii_xml, CII), (ubl_xml, UBL)):
        rules = {failure.rule for failure in fatal(rule_failures(write(facts), syntax))}
        assert "BR-AE-02" in rules


@pytest.mark.parametrize(
    "value", ["12345678", "D1", "DE-123456", "DE1234567890123", "de", "DE12345678901234567"]
)
def test_a_bad_vat_id_is_a_400_naming_the_field_and_nothing_is_written(cast, api_as, value):
    answer = api_as(cast.admin).patch(
        details_url(cast.acme), {"vat_id": value}, content_type="application/json"
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "vat_id"
    assert not ClientBillingDetails.objects.exists()


def test_the_details_are_read_and_cleared_through_the_api(cast, api_as):
    admin = api_as(cast.admin)
    assert admin.get(details_url(cast.acme)).json() == {"client_id": cast.acme.pk, "vat_id": ""}
    admin.patch(
        details_url(cast.acme), {"vat_id": "FR40303265045"}, content_type="application/json"
    )
    assert admin.get(details_url(cast.acme)).json()["vat_id"] == "FR40303265045"
    cleared = admin.patch(details_url(cast.acme), {"vat_id": ""}, content_type="application/json")
    assert cleared.json()["vat_id"] == ""


def test_only_practice_admins_see_or_change_a_clients_details(cast, api_as):
    body = {"vat_id": VAT_ID}
    for user in (cast.other_client_admin, cast.outsider):
        client = api_as(user)
        assert client.get(details_url(cast.acme)).status_code == 404
        assert client.patch(details_url(cast.acme), body, "application/json").status_code == 404
    for user in (cast.partner, cast.client_admin):
        client = api_as(user)
        assert client.get(details_url(cast.acme)).status_code in (403, 404)
        assert client.patch(details_url(cast.acme), body, "application/json").status_code in (
            403,
            404,
        )
    assert not ClientBillingDetails.objects.exists()


def test_the_page_saves_a_vat_id_and_refuses_a_bad_one(cast, web_as):
    page = web_as(cast.admin)
    url = f"/billing/clients/{cast.acme.pk}/details/"
    assert page.get(url).status_code == 200
    bad = page.post(url, {"vat_id": "12-34"})
    assert bad.status_code == 200
    assert "country code" in bad.content.decode()
    assert not ClientBillingDetails.objects.exists()
    assert page.post(url, {"vat_id": "de123456789"}).status_code == 302
    assert ClientBillingDetails.objects.get(client=cast.acme).vat_id == VAT_ID
    assert web_as(cast.client_admin).get(url).status_code in (403, 404)
