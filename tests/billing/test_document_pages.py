"""Downloads on the invoice page and in the portal: exactly the invoices one may see (404
outside), a page saying why for a draft or an e-invoice the settings cannot make (409), and the
settings page that names the seller."""

from __future__ import annotations

import pytest

from thirdway.billing.models import BillingSettings

from .documents import approve, drafts, seller_settings

STAFF_SEES = {"admin": {"acme", "globex"}, "partner": {"acme"}, "other_partner": {"globex"}}
PORTAL_SEES = {"client_admin": {"acme"}, "other_client_admin": {"globex"}}
ROLES = sorted({*STAFF_SEES, *PORTAL_SEES, "associate", "desk", "client_user", "other_client_user"})


def page_url(invoice, kind: str) -> str:
    return f"/billing/invoices/{invoice.pk}/documents/{kind}/"


def portal_url(invoice, kind: str) -> str:
    return f"/portal/invoices/{invoice.pk}/{kind}/"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_downloads_from_the_invoice_page_only_what_it_sees(cast, invoices, web_as, role):
    client = web_as(getattr(cast, role))
    seen = STAFF_SEES.get(role, set()) | PORTAL_SEES.get(role, set())
    for name in ("acme", "globex"):
        answer = client.get(page_url(getattr(invoices, name), "pdf"))
        assert answer.status_code == (200 if name in seen else 404), name


@pytest.mark.parametrize("role", ROLES)
def test_the_portal_lists_and_serves_a_client_admins_own_invoices_only(
    cast, invoices, web_as, role
):
    client = web_as(getattr(cast, role))
    listing = client.get("/portal/invoices/")
    seen = PORTAL_SEES.get(role, set())
    assert listing.status_code == (200 if seen else 404)
    for name in ("acme", "globex"):
        invoice = getattr(invoices, name)
        listed = listing.status_code == 200 and invoice.number in listing.content.decode()
        assert listed == (name in seen), name
        for kind in ("pdf", "facturx", "ubl"):
            answer = client.get(portal_url(invoice, kind))
            assert answer.status_code == (200 if name in seen else 404), (name, kind)


def test_the_portal_home_links_a_client_admin_to_the_invoices(cast, web_as):
    assert "/portal/invoices/" in web_as(cast.client_admin).get("/portal/").content.decode()
    assert "/portal/invoices/" not in web_as(cast.client_user).get("/portal/").content.decode()


def test_the_invoice_page_offers_the_three_downloads(cast, invoices, web_as):
    page = web_as(cast.admin).get(f"/billing/invoices/{invoices.acme.pk}/").content.decode()
    for kind in ("pdf", "facturx", "ubl"):
        assert page_url(invoices.acme, kind) in page
    factur_x = web_as(cast.partner).get(page_url(invoices.acme, "facturx"))
    assert factur_x["Content-Type"] == "application/pdf"
    assert factur_x.content.startswith(b"%PDF")


def test_a_draft_page_offers_no_download_and_a_draft_download_is_409(
    cast, books, book_time, web_as
):
    acme, _ = drafts(cast, books, book_time)
    client = web_as(cast.admin)
    page = client.get(f"/billing/invoices/{acme.pk}/").content.decode()
    assert "/documents/" not in page
    assert "A draft has no number yet" in page
    refused = client.get(page_url(acme, "pdf"))
    assert refused.status_code == 409
    assert "approve it first" in refused.content.decode()


def test_an_e_invoice_without_the_sellers_vat_identifier_is_409_saying_so(
    cast, books, book_time, web_as
):
    seller_settings(cast, vat_id="")
    acme = approve(cast, drafts(cast, books, book_time)[0])
    answer = web_as(cast.client_admin).get(portal_url(acme, "ubl"))
    assert answer.status_code == 409
    assert "no VAT identifier" in answer.content.decode()
    assert web_as(cast.client_admin).get(portal_url(acme, "pdf")).status_code == 200


def test_an_unknown_format_is_404(cast, invoices, web_as):
    assert web_as(cast.admin).get(page_url(invoices.acme, "docx")).status_code == 404
    assert web_as(cast.client_admin).get(portal_url(invoices.acme, "docx")).status_code == 404


def test_the_settings_page_names_the_seller_and_refuses_a_bad_vat_identifier(cast, web_as):
    client = web_as(cast.admin)
    url = f"/billing/settings/{cast.security.pk}/"
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    refused = client.post(url, {**data, "vat_id": "fr 123", "country": "FR"})
    assert refused.status_code == 200
    assert "vat_id" in refused.context["form"].errors
    assert BillingSettings.objects.get(practice=cast.security).vat_id == ""
    saved = client.post(url, {**data, "vat_id": "FR40303265045", "country": "FR"})
    assert saved.status_code == 302
    assert BillingSettings.objects.get(practice=cast.security).vat_id == "FR40303265045"
