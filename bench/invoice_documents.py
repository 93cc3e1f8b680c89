"""How long one invoice's documents take to make: its PDF, its UBL XML, its CII XML and its
Factur-X PDF (the PDF with the CII embedded and checked against the profile's schema).

    .venv/bin/python bench/invoice_documents.py [--lines 50] [--repeat 20]

The invoice is built in memory (``--lines`` lines: monthly charges and hours, standard-rated,
zero-rated and exempt, half with a second line saying where the quantity came from), so only
the writing is timed, not the database read of the invoice (a few queries). Prints one JSON
object: the median and the slowest of ``--repeat`` runs per document, in milliseconds (wall
clock), the median CPU time of this process (the machine may be shared), and each document's
size in bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from decimal import Decimal
from types import SimpleNamespace

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdway.settings")
os.environ.setdefault("THIRDWAY_HOME", tempfile.mkdtemp(prefix="thirdway-bench-"))
import django

django.setup()

from thirdway.billing.documents.cii import cii_xml  # noqa: E402
from thirdway.billing.documents.facts import (  # noqa: E402
    DocumentLine,
    InvoiceFacts,
    Party,
    VatGroup,
)
from thirdway.billing.documents.facturx import render_facturx  # noqa: E402
from thirdway.billing.documents.pdf import render_pdf  # noqa: E402
from thirdway.billing.documents.ubl import ubl_xml  # noqa: E402
from thirdway.billing.invoicing import vat_breakdown  # noqa: E402

CATEGORIES = [("S", Decimal(20)), ("S", Decimal(20)), ("Z", Decimal(0)), ("E", Decimal(0))]


def a_line(position: int) -> DocumentLine:
    category, rate = CATEGORIES[position % len(CATEGORIES)]
    hourly = position % 3 == 0
    quantity = Decimal(position % 7 + 1) / (4 if hourly else 1)
    price = Decimal(f"{80 + position * 3}.50")
    return DocumentLine(
        position=position,
        description=f"{'Partner time' if hourly else 'Device care'} for site {position}",
        note=f"{position} devices counted on 2026-11-01" if position % 2 else "",
        quantity=quantity,
        unit_code="HUR" if hourly else "C62",
        unit_price=price,
        net=(quantity * price).quantize(Decimal("0.01")),
        category=category,
        rate=rate,
    )


def an_invoice(count: int) -> InvoiceFacts:
    lines = tuple(a_line(position) for position in range(1, count + 1))
    rows = [SimpleNamespace(vat_category=x.category, vat_rate=x.rate, net=x.net) for x in lines]
    groups = tuple(VatGroup(*group) for group in vat_breakdown(rows))
    net = sum((group.base for group in groups), Decimal("0.00"))
    tax = sum((group.tax for group in groups), Decimal("0.00"))
    return InvoiceFacts(
        kind="invoice",
        number="INV-000042",
        state="approved",
        issued_on=dt.date(2026, 12, 1),
        due_on=dt.date(2026, 12, 31),
        payment_days=30,
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        currency="EUR",
        seller=Party(
            "Security Partners SCOP", "12 rue des Lilas", "69003", "Lyon", "FR", "FR40303265045"
        ),
        buyer=Party("Acme Bakery", "1 rue du Pain", "75001", "Paris", "FR", "FR12345678901"),
        iban="FR7630006000011234567890189",
        lines=lines,
        vat=groups,
        net=net,
        tax=tax,
        gross=net + tax,
    )


def timed(make, facts: InvoiceFacts, repeat: int) -> dict:
    make(facts)  # warm: imports, fonts, the schema the Factur-X check loads
    runs, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        made = make(facts)
        runs.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "median_ms": round(statistics.median(runs), 2),
        "max_ms": round(max(runs), 2),
        "median_cpu_ms": round(statistics.median(cpu), 2),
        "bytes": len(made),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    facts = an_invoice(options.lines)
    writers = {"pdf": render_pdf, "ubl": ubl_xml, "cii": cii_xml, "facturx": render_facturx}
    figures = {name: timed(make, facts, options.repeat) for name, make in writers.items()}
    print(json.dumps({"lines": options.lines, "repeat": options.repeat, **figures}, indent=2))


if __name__ == "__main__":
    main()
