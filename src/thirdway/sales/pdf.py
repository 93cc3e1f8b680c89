"""A proposal as a PDF (fpdf2, pure Python): the same content as its web page.

Set in Thirdway's own font, embedded (``thirdway.pdf_document``): a company's name in Polish,
Greek or Vietnamese prints whole, as on the web page.
"""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF
from fpdf.fonts import FontFace

from thirdway.billing.models import BillingSettings
from thirdway.pdf_document import FONT, PdfDocument
from thirdway.sales.models import Proposal

WIDTHS = (96, 22, 36, 36)
HEAD_FILL = (235, 238, 242)


def currency_of(proposal: Proposal) -> str:
    found = BillingSettings.objects.filter(practice=proposal.opportunity.practice_id).first()
    return found.currency if found else "EUR"


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _para(doc: FPDF, height: int, text: str) -> None:
    """A paragraph across the page, the next one starting at the left margin below it."""
    doc.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


class _Document(PdfDocument):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 10, f"Page {self.page_no()}", align="C")


def render(proposal: Proposal) -> bytes:
    opportunity = proposal.opportunity
    lead = opportunity.lead
    currency = currency_of(proposal)
    doc = _Document()
    doc.set_title(f"Proposal {proposal.number} for {lead.company}")
    doc.set_author(opportunity.practice.name)
    doc.add_page()
    doc.set_font(FONT, "B", 18)
    _para(doc, 10, f"Proposal for {lead.company}")
    doc.set_font(FONT, size=11)
    _para(doc, 6, f"{opportunity.title} · {opportunity.practice.name}")
    _para(doc, 6, f"Proposal {proposal.number}, for {lead.contact_name}")
    if proposal.expires_at:
        _para(doc, 6, f"Valid until {proposal.expires_at:%d %B %Y}")
    doc.ln(4)
    _lines(doc, proposal, currency)
    doc.ln(6)
    doc.set_font(FONT, "B", 12)
    doc.cell(0, 8, "Terms", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(FONT, size=11)
    terms = [
        f"Term: {proposal.term_months} months, from the first day of the month after acceptance.",
        f"Notice: {proposal.notice_days} days before the end of the term.",
        f"Service level: {proposal.sla_policy.name if proposal.sla_policy else 'our standard'}.",
        f"Total over the term: {currency} {amount(proposal.term_total)} before VAT.",
    ]
    for line in terms:
        _para(doc, 6, line)
    if proposal.state == "accepted":
        doc.ln(4)
        when = f"{proposal.answered_at:%d %B %Y %H:%M} UTC"
        _para(doc, 6, f"Accepted by {proposal.accepted_name} on {when}.")
    return bytes(doc.output())


def _lines(doc: FPDF, proposal: Proposal, currency: str) -> None:
    """The services, a description wrapping within its column, and the monthly total."""
    doc.set_font(FONT, size=10)
    heads = ("Service", "Quantity", f"Unit ({currency})", f"Monthly ({currency})")
    with doc.table(
        col_widths=WIDTHS,
        width=sum(WIDTHS),
        align="LEFT",
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        line_height=6,
    ) as table:
        table.row(heads)
        for line in proposal.lines.all():
            table.row(
                (
                    line.description,
                    format(line.quantity.normalize(), "f"),
                    amount(line.unit_price),
                    amount(line.total),
                )
            )
        total = table.row(style=FontFace(emphasis="BOLD"))
        total.cell("Total per month, before VAT", colspan=3, align="RIGHT")
        total.cell(amount(proposal.total), align="RIGHT")
