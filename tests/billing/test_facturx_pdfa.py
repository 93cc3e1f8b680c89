"""The Factur-X PDF as PDF/A-3 B wants it, as far as reading the file can tell (no PDF/A
validator runs here): every font embedded, the XMP metadata saying what the document
information says, the XML an associated file, no encryption or transparency; and names in
Polish, Greek and Vietnamese printed whole on every invoice document."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal

from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

from support.pdf_files import assert_fonts_embedded, text_of
from thirdway.billing.documents.facts import DocumentLine, InvoiceFacts, Party, VatGroup, facts_of
from thirdway.billing.documents.facturx import render_facturx
from thirdway.billing.documents.pdf import render_pdf

SELLER = Party(
    "Nguyễn & Wiśniewska SCOP", "12 rue des Lilas", "69003", "Lyon", "FR", "FR40303265045"
)
BUYER = Party(
    "Łódź Serwis Sp. z o.o.", "ul. Piotrkowska 104", "90-006", "Łódź", "PL", "PL7251801126"
)
GREEK_LINE = "Υποστήριξη διακομιστή (server care)"
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
}


def line(position: int, description: str, net: str) -> DocumentLine:
    return DocumentLine(
        position, description, "", Decimal(1), "C62", Decimal(net), Decimal(net), "S", Decimal(20)
    )


FACTS = InvoiceFacts(
    kind="invoice",
    number="INV-000042",
    state="approved",
    issued_on=dt.date(2026, 12, 1),
    due_on=dt.date(2026, 12, 31),
    payment_days=30,
    period_start=dt.date(2026, 11, 1),
    period_end=dt.date(2026, 11, 30),
    currency="EUR",
    seller=SELLER,
    buyer=BUYER,
    iban="FR7630006000011234567890189",
    lines=(line(1, GREEK_LINE, "300.00"), line(2, "Device care (2026-11)", "100.00")),
    vat=(VatGroup("S", Decimal(20), Decimal("400.00"), Decimal("80.00")),),
    net=Decimal("400.00"),
    tax=Decimal("80.00"),
    gross=Decimal("480.00"),
)


def every_object(reader: PdfReader) -> list[object]:
    return [reader.get_object(number) for number in range(1, reader.trailer["/Size"])]


def xmp_of(reader: PdfReader) -> etree._Element:
    packet = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    body = packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0]
    return etree.fromstring(body.strip())


def one(tree: etree._Element, path: str) -> str:
    [found] = tree.xpath(path, namespaces=NS)
    return str(found)


def test_every_font_of_the_facturx_pdf_is_embedded(invoices):
    made = render_facturx(facts_of(invoices.acme))
    assert_fonts_embedded(made)
    reader = PdfReader(io.BytesIO(made))
    subtypes = {
        item.get("/Subtype")
        for item in every_object(reader)
        if isinstance(item, DictionaryObject) and item.get("/Type") == "/Font"
    }
    assert subtypes == {"/Type0", "/CIDFontType2"}  # no core font left anywhere


def test_the_xmp_metadata_says_what_the_document_information_says():
    reader = PdfReader(io.BytesIO(render_facturx(FACTS)))
    info, xmp = reader.metadata, xmp_of(reader)
    assert (one(xmp, "//pdfaid:part/text()"), one(xmp, "//pdfaid:conformance/text()")) == (
        "3",
        "B",
    )
    assert info["/Title"] == one(xmp, "//dc:title//rdf:li/text()") == "Invoice INV-000042"
    assert info["/Author"] == one(xmp, "//dc:creator//rdf:li/text()") == SELLER.name
    assert info["/Subject"] == one(xmp, "//dc:description//rdf:li/text()")
    assert BUYER.name in info["/Subject"]
    assert info["/Keywords"] == one(xmp, "//pdf:Keywords/text()")
    assert info["/Producer"] == one(xmp, "//pdf:Producer/text()")
    assert info["/Creator"] == one(xmp, "//xmp:CreatorTool/text()")
    # Dated the day of issue, in both: D:20261201000000+00'00' is 2026-12-01T00:00:00+00:00.
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261201000000+00'00'"
    for name in ("CreateDate", "ModifyDate", "MetadataDate"):
        assert one(xmp, f"//xmp:{name}/text()") == "2026-12-01T00:00:00+00:00", name
    assert one(xmp, "//fx:DocumentFileName/text()") == "factur-x.xml"
    assert one(xmp, "//fx:ConformanceLevel/text()") == "EN 16931"
    assert "/Filter" not in reader.trailer["/Root"]["/Metadata"].get_object()


def test_the_xml_is_an_associated_file_with_its_type_and_date():
    reader = PdfReader(io.BytesIO(render_facturx(FACTS)))
    root = reader.trailer["/Root"]
    [attached] = [item.get_object() for item in root["/AF"]]
    assert (attached["/F"], attached["/UF"]) == ("factur-x.xml", "factur-x.xml")
    assert attached["/AFRelationship"] == "/Data"
    stream = attached["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/text/xml"
    assert stream["/Params"]["/ModDate"] == "D:20261201000000+00'00'"
    assert root["/Names"]["/EmbeddedFiles"]["/Names"][0] == "factur-x.xml"


def test_the_file_has_no_encryption_no_transparency_no_cmyk_and_a_pdfa_header():
    made = render_facturx(FACTS)
    reader = PdfReader(io.BytesIO(made))
    assert "/Encrypt" not in reader.trailer and not reader.is_encrypted
    assert len(reader.trailer["/ID"]) == 2
    # "%PDF-1.7", then a comment of bytes above 127 marking the file as binary.
    assert re.match(rb"%PDF-1\.7\r?\n%[\x80-\xff]{4}", made)
    for item in every_object(reader):
        if not isinstance(item, DictionaryObject):
            continue
        assert "/SMask" not in item
        assert item.get("/S") != "/Transparency"
        assert item.get("/CA", 1) == 1 and item.get("/ca", 1) == 1
        assert "/JS" not in item and "/JavaScript" not in item
    # Colours are RGB or grey, which the sRGB output intent covers; CMYK would want its own.
    for page in reader.pages:
        drawing = ContentStream(page.get_contents(), reader).operations
        operators = {operator.decode() for _, operator in drawing}
        assert "rg" in operators and not operators & {"k", "K", "cs", "CS", "sh"}


def test_the_same_facts_make_the_same_facturx_bytes():
    assert render_facturx(FACTS) == render_facturx(FACTS)


def test_names_in_polish_greek_and_vietnamese_print_whole():
    note = dataclasses.replace(FACTS, kind="credit_note", number="CN-000007", credits_number="X")
    for made in (render_pdf(FACTS), render_facturx(FACTS), render_pdf(note)):
        text = text_of(made)
        for name in (SELLER.name, BUYER.name, "90-006 Łódź", GREEK_LINE):
            assert name in text, name
    assert "Credit note CN-000007" in text
