"""The invoice as an OASIS UBL 2.1 Invoice, or CreditNote, following EN 16931 (customization
``urn:cen.eu:en16931:2017``): the syntax most Peppol access points take."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from thirdway.billing.documents.facts import DocumentLine, InvoiceFacts, Party, VatGroup
from thirdway.billing.documents.xml import EN16931, Builder, amount, percent, quantity, serialise

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"


def _builder(facts: InvoiceFacts) -> Builder:
    document = CREDIT_NOTE if facts.is_credit_note else INVOICE
    return Builder({None: document, "cac": CAC, "cbc": CBC})


def _money(x: Builder, parent, name: str, value, currency: str) -> None:
    x.sub(parent, name, amount(value), currencyID=currency)


def _party(x: Builder, parent, name: str, party: Party) -> None:
    """A seller (BG-4) or buyer (BG-7) with its postal address (BG-5, BG-8)."""
    element = x.sub(x.sub(parent, name), "cac:Party")
    address = x.sub(element, "cac:PostalAddress")
    if party.street:
        x.sub(address, "cbc:StreetName", party.street)
    if party.more:
        x.sub(address, "cbc:AdditionalStreetName", party.more)
    if party.city:
        x.sub(address, "cbc:CityName", party.city)
    if party.postcode:
        x.sub(address, "cbc:PostalZone", party.postcode)
    x.sub(x.sub(address, "cac:Country"), "cbc:IdentificationCode", party.country)
    if party.vat_id:
        scheme = x.sub(element, "cac:PartyTaxScheme")
        x.sub(scheme, "cbc:CompanyID", party.vat_id)
        x.sub(x.sub(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    x.sub(x.sub(element, "cac:PartyLegalEntity"), "cbc:RegistrationName", party.name)


def _period(x: Builder, parent, start: dt.date, end: dt.date) -> None:
    """BT-73/BT-74 on the invoice, BT-134/BT-135 on a line."""
    period = x.sub(parent, "cac:InvoicePeriod")
    x.sub(period, "cbc:StartDate", start.isoformat())
    x.sub(period, "cbc:EndDate", end.isoformat())


def _category(x: Builder, parent, name: str, category: str, rate, group: VatGroup | None) -> None:
    element = x.sub(parent, name)
    x.sub(element, "cbc:ID", category)
    x.sub(element, "cbc:Percent", percent(rate))
    if group is not None and group.exemption_code:
        x.sub(element, "cbc:TaxExemptionReasonCode", group.exemption_code)
    if group is not None and group.exemption_text:
        x.sub(element, "cbc:TaxExemptionReason", group.exemption_text)
    x.sub(x.sub(element, "cac:TaxScheme"), "cbc:ID", "VAT")


def _line(x: Builder, parent, line: DocumentLine, facts: InvoiceFacts) -> None:
    credit = facts.is_credit_note
    element = x.sub(parent, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    x.sub(element, "cbc:ID", str(line.position))
    if line.note:
        x.sub(element, "cbc:Note", line.note)
    counted = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    x.sub(element, counted, quantity(line.quantity), unitCode=line.unit_code)
    _money(x, element, "cbc:LineExtensionAmount", line.net, facts.currency)
    if line.period:
        _period(x, element, *line.period)
    item = x.sub(element, "cac:Item")
    x.sub(item, "cbc:Name", line.description)
    _category(x, item, "cac:ClassifiedTaxCategory", line.category, line.rate, None)
    _money(x, x.sub(element, "cac:Price"), "cbc:PriceAmount", line.unit_price, facts.currency)


def _head(x: Builder, root, facts: InvoiceFacts) -> None:
    x.sub(root, "cbc:CustomizationID", EN16931)
    x.sub(root, "cbc:ID", facts.number)
    x.sub(root, "cbc:IssueDate", facts.issued_on.isoformat())
    if facts.is_credit_note:
        x.sub(root, "cbc:CreditNoteTypeCode", facts.type_code)
    else:
        x.sub(root, "cbc:DueDate", facts.due_on.isoformat())
        x.sub(root, "cbc:InvoiceTypeCode", facts.type_code)
    x.sub(root, "cbc:DocumentCurrencyCode", facts.currency)
    _period(x, root, facts.period_start, facts.period_end)
    if facts.credits_number:
        reference = x.sub(x.sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        x.sub(reference, "cbc:ID", facts.credits_number)
        if facts.credits_issued_on:
            x.sub(reference, "cbc:IssueDate", facts.credits_issued_on.isoformat())


def _settlement(x: Builder, root, facts: InvoiceFacts) -> None:
    if facts.iban and not facts.is_credit_note:
        means = x.sub(root, "cac:PaymentMeans")
        x.sub(means, "cbc:PaymentMeansCode", "58")  # SEPA credit transfer
        x.sub(x.sub(means, "cac:PayeeFinancialAccount"), "cbc:ID", facts.iban)
    x.sub(x.sub(root, "cac:PaymentTerms"), "cbc:Note", facts.payment_terms)
    total = x.sub(root, "cac:TaxTotal")
    _money(x, total, "cbc:TaxAmount", facts.tax, facts.currency)
    for group in facts.vat:
        subtotal = x.sub(total, "cac:TaxSubtotal")
        _money(x, subtotal, "cbc:TaxableAmount", group.base, facts.currency)
        _money(x, subtotal, "cbc:TaxAmount", group.tax, facts.currency)
        _category(x, subtotal, "cac:TaxCategory", group.category, group.rate, group)
    totals = x.sub(root, "cac:LegalMonetaryTotal")
    _money(x, totals, "cbc:LineExtensionAmount", facts.line_total, facts.currency)
    _money(x, totals, "cbc:TaxExclusiveAmount", facts.net, facts.currency)
    _money(x, totals, "cbc:TaxInclusiveAmount", facts.gross, facts.currency)
    _money(x, totals, "cbc:PayableAmount", facts.gross, facts.currency)


def ubl_tree(facts: InvoiceFacts) -> etree._Element:
    x = _builder(facts)
    root = x.root(":CreditNote" if facts.is_credit_note else ":Invoice")
    _head(x, root, facts)
    _party(x, root, "cac:AccountingSupplierParty", facts.seller)
    _party(x, root, "cac:AccountingCustomerParty", facts.buyer)
    _settlement(x, root, facts)
    for line in facts.lines:
        _line(x, root, line, facts)
    return root


def ubl_xml(facts: InvoiceFacts) -> bytes:
    return serialise(ubl_tree(facts))
