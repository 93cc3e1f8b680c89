"""A proposal as a PDF (fpdf2, pure Python): the same content as its web page.

fpdf2's built-in fonts take Latin-1 only, so text outside it is replaced (a company's name in
another script prints as question marks in the PDF; the web page shows it whole).
"""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF

from thirdway.billing.models import BillingSettings
from thirdway.sales.models import Proposal

WIDTHS = (95, 25, 30, 30)


def currency_of(proposal: Proposal) -> str:
    found = BillingSettings.objects.filter(practice=proposal.opportunity.practice_id).first()
    return found.currency if found else "EUR"


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _latin(text: str) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _para(doc: FPDF, height: int, text: str) -> None:
    """A paragraph across the page, the next one starting at the left margin below it."""
    doc.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"Page {self.page_no()}", align="C")


def render(proposal: Proposal) -> bytes:
    opportunity = proposal.opportunity
    lead = opportunity.lead
    currency = currency_of(proposal)
    doc = _Document(format="A4")
    doc.set_title(_latin(f"Proposal {proposal.number} for {lead.company}"))
    doc.set_author(_latin(opportunity.practice.name))
    doc.add_page()
    doc.set_font("Helvetica", "B", 18)
    _para(doc, 10, _latin(f"Proposal for {lead.company}"))
    doc.set_font("Helvetica", size=11)
    _para(doc, 6, _latin(f"{opportunity.title} · {opportunity.practice.name}"))
    _para(doc, 6, _latin(f"Proposal {proposal.number}, for {lead.contact_name}"))
    if proposal.expires_at:
        _para(doc, 6, f"Valid until {proposal.expires_at:%d %B %Y}")
    doc.ln(4)
    _lines(doc, proposal, currency)
    doc.ln(6)
    doc.set_font("Helvetica", "B", 12)
    doc.cell(0, 8, "Terms", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=11)
    terms = [
        f"Term: {proposal.term_months} months, from the first day of the month after acceptance.",
        f"Notice: {proposal.notice_days} days before the end of the term.",
        f"Service level: {proposal.sla_policy.name if proposal.sla_policy else 'our standard'}.",
        f"Total over the term: {currency} {amount(proposal.term_total)} before VAT.",
    ]
    for line in terms:
        _para(doc, 6, _latin(line))
    if proposal.state == "accepted":
        doc.ln(4)
        when = f"{proposal.answered_at:%d %B %Y %H:%M} UTC"
        _para(doc, 6, _latin(f"Accepted by {proposal.accepted_name} on {when}."))
    return bytes(doc.output())


def _lines(doc: FPDF, proposal: Proposal, currency: str) -> None:
    doc.set_font("Helvetica", "B", 10)
    doc.set_fill_color(235, 238, 242)
    heads = ("Service", "Quantity", f"Unit ({currency})", f"Monthly ({currency})")
    for width, head, align in zip(WIDTHS, heads, "LRRR", strict=True):
        doc.cell(width, 8, head, border=1, align=align, fill=True)
    doc.ln()
    doc.set_font("Helvetica", size=10)
    for line in proposal.lines.all():
        cells = (
            line.description,
            format(line.quantity.normalize(), "f"),
            amount(line.unit_price),
            amount(line.total),
        )
        for width, text, align in zip(WIDTHS, cells, "LRRR", strict=True):
            doc.cell(width, 8, _latin(text)[:60], border=1, align=align)
        doc.ln()
    doc.set_font("Helvetica", "B", 10)
    doc.cell(sum(WIDTHS[:3]), 8, "Total per month, before VAT", border=1, align="R")
    doc.cell(WIDTHS[3], 8, amount(proposal.total), border=1, align="R")
    doc.ln()
