"""The Factur-X (ZUGFeRD 2) PDF: the invoice's PDF with its CII XML embedded as
``factur-x.xml``, profile EN 16931, by the ``factur-x`` package.

The PDF declares itself PDF/A-3 B. Its fonts are embedded and its colours sRGB (the PDF's own
doing); ``factur-x`` attaches the XML and writes the XMP metadata. We then date the file the day
the invoice was issued, in the document information and the XMP alike (PDF/A wants the two to
agree, and the same facts to make the same bytes), and give the XMP the keywords and producer
the information names.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from facturx import generate_from_binary
from lxml import etree
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject, TextStringObject

from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import InvoiceFacts, require_einvoice_ready
from thirdway.billing.documents.pdf import render_pdf

# The package reports each step at INFO; our logs want none of it.
logging.getLogger("factur-x").setLevel(logging.WARNING)

PRODUCER = "Thirdway"
KEYWORDS = "Factur-X, invoice"
PDF = "http://ns.adobe.com/pdf/1.3/"
XMP = "http://ns.adobe.com/xap/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def render_facturx(facts: InvoiceFacts) -> bytes:
    require_einvoice_ready(facts)
    made = generate_from_binary(
        render_pdf(facts),
        cii_xml(facts),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": facts.seller.name,
            "keywords": KEYWORDS,
            "title": f"{facts.title} {facts.number}",
            "subject": f"{facts.title} {facts.number} to {facts.buyer.name}",
        },
        lang="en-GB",
        # PDF/A readers find the XMP without inflating it.
        xmp_compression=False,
    )
    return _dated(made, dt.datetime.combine(facts.issued_on, dt.time(), tzinfo=dt.UTC))


def _dated(made: bytes, when: dt.datetime) -> bytes:
    """The file with every date it carries set to ``when``, and its information and XMP
    metadata saying the same things."""
    writer = PdfWriter(clone_from=io.BytesIO(made))
    # Associated files came with PDF 1.7.
    writer.pdf_header = b"%PDF-1.7"
    stamp = when.strftime("D:%Y%m%d%H%M%S+00'00'")
    writer.add_metadata(
        {"/CreationDate": stamp, "/ModDate": stamp, "/Producer": PRODUCER, "/Keywords": KEYWORDS}
    )
    for filespec in writer.root_object["/AF"]:
        params = filespec.get_object()["/EF"]["/F"].get_object()["/Params"]
        params[NameObject("/ModDate")] = TextStringObject(stamp)
    metadata = writer.root_object["/Metadata"].get_object()
    assert isinstance(metadata, StreamObject)
    metadata.set_data(_xmp(metadata.get_data(), when))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xmp(packet: bytes, when: dt.datetime) -> bytes:
    """The XMP packet dated ``when``, naming the producer and keywords the information does."""
    head, _, rest = packet.partition(b"?>")
    body, _, tail = rest.rpartition(b"<?xpacket")
    root = etree.fromstring(body.strip())
    iso = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    for name in ("CreateDate", "ModifyDate", "MetadataDate"):
        _set(root, XMP, name, iso)
    _set(root, PDF, "Producer", PRODUCER)
    _set(root, PDF, "Keywords", KEYWORDS)
    return b"%s?>\n%s\n<?xpacket%s" % (head, etree.tostring(root, encoding="utf-8"), tail)


def _set(root: etree._Element, namespace: str, name: str, value: str) -> None:
    """Set one simple property, in the description that holds its namespace's others."""
    found = root.find(f".//{{{namespace}}}{name}")
    if found is None:
        holder = root.find(f".//{{{namespace}}}*/..")
        if holder is None:
            holder = etree.SubElement(root.find(f"{{{RDF}}}RDF"), f"{{{RDF}}}Description")
            holder.set(f"{{{RDF}}}about", "")
        found = etree.SubElement(holder, f"{{{namespace}}}{name}")
    found.text = value
