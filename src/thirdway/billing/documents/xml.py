"""Small helpers the CII and UBL writers share: amounts as EN 16931 writes them, and elements
built with lxml under a namespace map."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

CENT = Decimal("0.01")
EN16931 = "urn:cen.eu:en16931:2017"


def amount(value: Decimal) -> str:
    """Two decimals, as BR-DEC-* allow for amounts."""
    return str(value.quantize(CENT))


def quantity(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def percent(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class Builder:
    """Elements named ``prefix:name`` under the writer's namespace map."""

    def __init__(self, nsmap: dict[str | None, str]) -> None:
        self.nsmap = nsmap

    def qname(self, name: str) -> str:
        """``prefix:local``; an empty prefix is the default namespace."""
        prefix, local = name.split(":")
        return f"{{{self.nsmap[prefix or None]}}}{local}"

    def root(self, name: str) -> etree._Element:
        return etree.Element(self.qname(name), nsmap=self.nsmap)

    def sub(
        self, parent: etree._Element, name: str, text: str | None = None, **attributes: str
    ) -> etree._Element:
        element = etree.SubElement(parent, self.qname(name), attributes)
        if text is not None:
            element.text = text
        return element


def ymd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
