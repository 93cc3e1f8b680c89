"""GET /invoices/{id}/pdf, /facturx and /ubl: exactly the invoices one may see (404 outside,
another client's admin included), none for a draft (409), e-invoices only with the seller's
VAT identifier (409 naming it)."""

from __future__ import annotations

import pytest
from lxml import etree

from .documents import approve, drafts, seller_settings

API = "/api/v1"
KINDS = {"pdf": "application/pdf", "facturx": "application/pdf", "ubl": "application/xml"}
SEES = {
    "admin": {"acme", "globex"},
    "partner": {"acme"},
    "other_partner": {"globex"},
    "client_admin": {"acme"},
    "other_client_admin": {"globex"},
}
ROLES = sorted({*SEES, "associate", "desk", "client_user", "other_client_user", "outsider"})


@pytest.mark.parametrize("role", ROLES)
def test_each_role_downloads_exactly_the_invoices_it_sees(cast, invoices, api_as, role):
    client = api_as(getattr(cast, role))
    for name in ("acme", "globex"):
        invoice = getattr(invoices, name)
        for kind, content_type in KINDS.items():
            answer = client.get(f"{API}/invoices/{invoice.pk}/{kind}")
            if name in SEES.get(role, set()):
                assert answer.status_code == 200, (name, kind, answer.content[:200])
                assert answer["Content-Type"] == content_type
                assert invoice.number in answer["Content-Disposition"]
            else:
                assert answer.status_code == 404, (name, kind)


def test_the_ubl_of_the_api_is_the_invoice_with_its_number_and_total(cast, invoices, api_as):
    answer = api_as(cast.client_admin).get(f"{API}/invoices/{invoices.acme.pk}/ubl")
    tree = etree.fromstring(answer.content)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert tree.findtext("cbc:ID", namespaces=ns) == invoices.acme.number
    payable = tree.findtext(".//cbc:PayableAmount", namespaces=ns)
    assert payable == str(invoices.acme.gross)


def test_a_draft_has_no_document_409_with_the_states_that_have_one(cast, books, book_time, api_as):
    seller_settings(cast)
    acme, _ = drafts(cast, books, book_time)
    client = api_as(cast.admin)
    for kind in KINDS:
        answer = client.get(f"{API}/invoices/{acme.pk}/{kind}")
        assert answer.status_code == 409
        body = answer.json()
        assert body["status"] == "draft"
        assert body["allowed"] == ["approved", "credited", "paid", "sent"]
        assert "approve it first" in body["detail"]


def test_a_client_admin_cannot_reach_their_own_draft(cast, books, book_time, api_as):
    acme, _ = drafts(cast, books, book_time)
    answer = api_as(cast.client_admin).get(f"{API}/invoices/{acme.pk}/pdf")
    assert answer.status_code == 404


def test_without_the_sellers_vat_identifier_e_invoices_are_409_and_the_pdf_is_made(
    cast, books, book_time, api_as
):
    seller_settings(cast, vat_id="")
    acme = approve(cast, drafts(cast, books, book_time)[0])
    client = api_as(cast.admin)
    assert client.get(f"{API}/invoices/{acme.pk}/pdf").status_code == 200
    for kind in ("facturx", "ubl"):
        answer = client.get(f"{API}/invoices/{acme.pk}/{kind}")
        assert answer.status_code == 409
        assert "no VAT identifier" in answer.json()["detail"]
