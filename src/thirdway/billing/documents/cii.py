"""The invoice as UN/CEFACT Cross Industry Invoice XML, Factur-X/ZUGFeRD profile EN 16931 (the
XML a Factur-X PDF carries).  A credit note is type 381 with positive amounts, naming the
invoice it credits."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from thirdway.billing.documents.facts import DocumentLine, InvoiceFacts, Party, VatGroup
from thirdway.billing.documents.xml import EN16931, Builder, amount, percent, quantity, serialise
from thirdway.billing.documents.xml import ymd as _ymd

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
X = Builder(NS)


def _date(parent: etree._Element, name: str, day, kind: str = "udt") -> None:
    X.sub(X.sub(parent, name), f"{kind}:DateTimeString", _ymd(day), format="102")


def _period(parent: etree._Element, start: dt.date, end: dt.date) -> None:
    """BT-73/BT-74 on the invoice, BT-134/BT-135 on a line."""
    period = X.sub(parent, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", start)
    _date(period, "ram:EndDateTime", end)


def _party(parent: etree._Element, name: str, party: Party) -> None:
    """A seller (BG-4) or buyer (BG-7) with its postal address (BG-5, BG-8)."""
    element = X.sub(parent, name)
    X.sub(element, "ram:Name", party.name)
    address = X.sub(element, "ram:PostalTradeAddress")
    if party.postcode:
        X.sub(address, "ram:PostcodeCode", party.postcode)
    if party.street:
        X.sub(address, "ram:LineOne", party.street)
    if party.more:
        X.sub(address, "ram:LineTwo", party.more)
    if party.city:
        X.sub(address, "ram:CityName", party.city)
    X.sub(address, "ram:CountryID", party.country)
    if party.vat_id:
        X.sub(X.sub(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def _line(parent: etree._Element, line: DocumentLine) -> None:
    item = X.sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    document = X.sub(item, "ram:AssociatedDocumentLineDocument")
    X.sub(document, "ram:LineID", str(line.position))
    if line.note:
        X.sub(X.sub(document, "ram:IncludedNote"), "ram:Content", line.note)
    X.sub(X.sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = X.sub(item, "ram:SpecifiedLineTradeAgreement")
    price = X.sub(agreement, "ram:NetPriceProductTradePrice")
    X.sub(price, "ram:ChargeAmount", amount(line.unit_price))
    delivery = X.sub(item, "ram:SpecifiedLineTradeDelivery")
    X.sub(delivery, "ram:BilledQuantity", quantity(line.quantity), unitCode=line.unit_code)
    settlement = X.sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = X.sub(settlement, "ram:ApplicableTradeTax")
    X.sub(tax, "ram:TypeCode", "VAT")
    X.sub(tax, "ram:CategoryCode", line.category)
    X.sub(tax, "ram:RateApplicablePercent", percent(line.rate))
    if line.period:
        _period(settlement, *line.period)
    summation = X.sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    X.sub(summation, "ram:LineTotalAmount", amount(line.net))


def _vat(parent: etree._Element, group: VatGroup) -> None:
    tax = X.sub(parent, "ram:ApplicableTradeTax")
    X.sub(tax, "ram:CalculatedAmount", amount(group.tax))
    X.sub(tax, "ram:TypeCode", "VAT")
    if group.exemption_text:
        X.sub(tax, "ram:ExemptionReason", group.exemption_text)
    X.sub(tax, "ram:BasisAmount", amount(group.base))
    X.sub(tax, "ram:CategoryCode", group.category)
    if group.exemption_code:
        X.sub(tax, "ram:ExemptionReasonCode", group.exemption_code)
    X.sub(tax, "ram:RateApplicablePercent", percent(group.rate))


def _settlement(parent: etree._Element, facts: InvoiceFacts) -> None:
    settlement = X.sub(parent, "ram:ApplicableHeaderTradeSettlement")
    X.sub(settlement, "ram:InvoiceCurrencyCode", facts.currency)
    if facts.iban and not facts.is_credit_note:
        means = X.sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        X.sub(means, "ram:TypeCode", "58")  # SEPA credit transfer
        account = X.sub(means, "ram:PayeePartyCreditorFinancialAccount")
        X.sub(account, "ram:IBANID", facts.iban)
    for group in facts.vat:
        _vat(settlement, group)
    _period(settlement, facts.period_start, facts.period_end)
    terms = X.sub(settlement, "ram:SpecifiedTradePaymentTerms")
    X.sub(terms, "ram:Description", facts.payment_terms)
    if not facts.is_credit_note:
        _date(terms, "ram:DueDateDateTime", facts.due_on)
    totals = X.sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    X.sub(totals, "ram:LineTotalAmount", amount(facts.line_total))
    X.sub(totals, "ram:TaxBasisTotalAmount", amount(facts.net))
    X.sub(totals, "ram:TaxTotalAmount", amount(facts.tax), currencyID=facts.currency)
    X.sub(totals, "ram:GrandTotalAmount", amount(facts.gross))
    X.sub(totals, "ram:DuePayableAmount", amount(facts.gross))
    if facts.credits_number:
        reference = X.sub(settlement, "ram:InvoiceReferencedDocument")
        X.sub(reference, "ram:IssuerAssignedID", facts.credits_number)
        if facts.credits_issued_on:
            _date(reference, "ram:FormattedIssueDateTime", facts.credits_issued_on, "qdt")


def cii_tree(facts: InvoiceFacts) -> etree._Element:
    root = X.root("rsm:CrossIndustryInvoice")
    context = X.sub(root, "rsm:ExchangedDocumentContext")
    X.sub(X.sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    document = X.sub(root, "rsm:ExchangedDocument")
    X.sub(document, "ram:ID", facts.number)
    X.sub(document, "ram:TypeCode", facts.type_code)
    _date(document, "ram:IssueDateTime", facts.issued_on)
    transaction = X.sub(root, "rsm:SupplyChainTradeTransaction")
    for line in facts.lines:
        _line(transaction, line)
    agreement = X.sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", facts.seller)
    _party(agreement, "ram:BuyerTradeParty", facts.buyer)
    X.sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, facts)
    return root


def cii_xml(facts: InvoiceFacts) -> bytes:
    return serialise(cii_tree(facts))
