"""An approved invoice's PDF, Factur-X PDF and UBL XML; a draft has none."""

from __future__ import annotations

import io

import pytest
from facturx import get_flavor, get_level, get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from thirdway.audit.models import Source
from thirdway.billing import issuing
from thirdway.billing.documents.answers import document_answer
from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import (
    DraftHasNoDocument,
    NotReadyForEinvoice,
    facts_of,
)
from thirdway.billing.documents.facturx import render_facturx
from thirdway.billing.documents.pdf import render_pdf

from .documents import approve, drafts, seller_settings


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_names_seller_buyer_number_dates_lines_vat_and_totals(cast, invoices):
    facts = facts_of(invoices.acme)
    text = text_of(render_pdf(facts))
    for expected in (
        f"Invoice {invoices.acme.number}",
        "Security Partners SCOP",
        "FR40303265045",
        "12 rue des Lilas",
        cast.acme.name,
        "Device care (2026-11)",
        "Training course (exempt)",
        "VAT S 20% on",
        "VAT E 0% on 250.00 (Exempt from VAT)",
        "Total due (EUR)",
        f"{invoices.acme.gross:,.2f}",
        "01 November 2026 to 30 November 2026",
        "FR7630006000011234567890189",
    ):
        assert expected in text, expected


def test_a_credit_note_pdf_names_the_invoice_it_credits(cast, invoices):
    note = issuing.credit_invoice(cast.admin, invoices.acme, source=Source.CLI)
    text = text_of(render_pdf(facts_of(note)))
    assert f"Credit note {note.number}" in text
    assert f"Credits invoice {invoices.acme.number}" in text
    assert "Total credited (EUR)" in text


def test_the_pdf_of_fifty_lines_runs_over_pages_with_every_line(cast, invoices):
    facts = facts_of(invoices.acme)
    many = facts.__class__(**{**facts.__dict__, "lines": facts.lines * 10})
    reader = PdfReader(io.BytesIO(render_pdf(many)))
    assert len(reader.pages) >= 2
    assert text_of(render_pdf(many)).count("Training course (exempt)") == 10


def test_the_facturx_pdf_carries_the_cii_xml_of_profile_en16931(invoices):
    facts = facts_of(invoices.acme)
    made = render_facturx(facts)
    name, xml = get_xml_from_pdf(made, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml == cii_xml(facts)
    tree = etree.fromstring(xml)
    assert (get_flavor(tree), get_level(tree)) == ("factur-x", "en16931")
    assert invoices.acme.number in text_of(made)


def test_the_facturx_pdf_has_the_pdfa3_parts_the_writers_give(invoices):
    """The sRGB output intent (ours), the PDF/A-3 B identification in the XMP metadata and the
    XML as an associated file (factur-x's), and the file identifier; the fonts, metadata and
    the rest in ``test_facturx_pdfa.py``."""
    reader = PdfReader(io.BytesIO(render_facturx(facts_of(invoices.acme))))
    root = reader.trailer["/Root"]
    [intent] = [item.get_object() for item in root["/OutputIntents"]]
    assert (intent["/S"], intent["/OutputConditionIdentifier"]) == ("/GTS_PDFA1", "sRGB")
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"  # an ICC profile
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    [attached] = [item.get_object() for item in root["/AF"]]
    assert (attached["/F"], attached["/AFRelationship"]) == ("factur-x.xml", "/Data")
    assert len(reader.trailer["/ID"]) == 2


def test_a_draft_has_no_document(cast, books, book_time):
    acme, _ = drafts(cast, books, book_time)
    for kind in ("pdf", "facturx", "ubl"):
        with pytest.raises(DraftHasNoDocument) as refused:
            document_answer(acme, kind)
        assert refused.value.current == "draft"
        assert refused.value.allowed == ["approved", "credited", "paid", "sent"]


def test_without_the_sellers_vat_identifier_only_the_pdf_is_made(cast, books, book_time):
    seller_settings(cast, vat_id="")
    acme = approve(cast, drafts(cast, books, book_time)[0])
    assert document_answer(acme, "pdf").status_code == 200
    for kind in ("facturx", "ubl"):
        with pytest.raises(NotReadyForEinvoice) as refused:
            document_answer(acme, kind)
        assert refused.value.field == "vat_id"


def test_the_answer_is_a_download_named_after_the_number(invoices):
    answer = document_answer(invoices.acme, "ubl")
    assert answer["Content-Type"] == "application/xml"
    number = invoices.acme.number
    assert answer["Content-Disposition"] == f'attachment; filename="{number}-ubl.xml"'
    assert etree.fromstring(answer.content).tag.endswith("}Invoice")
