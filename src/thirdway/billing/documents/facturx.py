"""The Factur-X (ZUGFeRD 2) PDF: the invoice's PDF with its CII XML embedded as
``factur-x.xml``, profile EN 16931, by the ``factur-x`` package."""

from __future__ import annotations

import logging

from facturx import generate_from_binary

from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import InvoiceFacts, require_einvoice_ready
from thirdway.billing.documents.pdf import render_pdf

# The package reports each step at INFO; our logs want none of it.
logging.getLogger("factur-x").setLevel(logging.WARNING)


def render_facturx(facts: InvoiceFacts) -> bytes:
    require_einvoice_ready(facts)
    return generate_from_binary(
        render_pdf(facts),
        cii_xml(facts),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": facts.seller.name,
            "keywords": "Factur-X, invoice",
            "title": f"{facts.title} {facts.number}",
            "subject": f"{facts.title} {facts.number} to {facts.buyer.name}",
        },
        lang="en-GB",
    )
