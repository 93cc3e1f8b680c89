"""An invoice or credit note as a PDF (fpdf2, pure Python), drawn from its facts: the seller and
the buyer, number and dates, the lines, VAT per category and the totals.

Set in Thirdway's own font, embedded (``thirdway.pdf_document``): every name prints whole, as
the e-invoice XML carries it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fpdf import FPDF
from fpdf.fonts import FontFace

from thirdway.billing.documents.facts import InvoiceFacts, Party
from thirdway.billing.documents.xml import percent, quantity
from thirdway.pdf_document import FONT, PdfDocument

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (31, 78, 121)
HEAD_FILL = (235, 238, 242)
LINE_WIDTHS = (8, 86, 18, 14, 24, 14, 26)
UNIT_NAMES = {"HUR": "h", "C62": ""}


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


class _Document(PdfDocument):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"{self.footer_text} - page {self.page_no()}/{{nb}}", align="C")


def render_pdf(facts: InvoiceFacts) -> bytes:
    pdf = _Document()
    pdf.footer_text = f"{facts.title} {facts.number} - {facts.seller.name}"
    pdf.set_title(f"{facts.title} {facts.number}")
    pdf.set_author(facts.seller.name)
    pdf.set_subject(f"{facts.title} {facts.number} to {facts.buyer.name}")
    # Dated the day it was issued: the same facts make the same bytes.
    pdf.set_creation_date(dt.datetime.combine(facts.issued_on, dt.time(), tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.declare_srgb()
    pdf.add_page()
    _heading(pdf, facts)
    _parties(pdf, facts)
    _dates(pdf, facts)
    _lines(pdf, facts)
    _vat(pdf, facts)
    _payment(pdf, facts)
    return bytes(pdf.output())


def _heading(pdf: FPDF, facts: InvoiceFacts) -> None:
    pdf.set_text_color(*ACCENT)
    pdf.set_font(FONT, "B", 20)
    pdf.cell(0, 10, f"{facts.title} {facts.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    if facts.credits_number:
        pdf.set_font(FONT, size=10)
        pdf.cell(0, 6, f"Credits invoice {facts.credits_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _party_lines(party: Party) -> list[str]:
    lines = [party.name, *party.address_lines]
    if party.vat_id:
        lines.append(f"VAT {party.vat_id}")
    return lines


def _parties(pdf: FPDF, facts: InvoiceFacts) -> None:
    top = pdf.get_y()
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    bottom = top
    for offset, label, party in ((0, "From", facts.seller), (half, "Bill to", facts.buyer)):
        pdf.set_xy(pdf.l_margin + offset, top)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(half, 5, label.upper(), new_x="LEFT", new_y="NEXT")
        pdf.set_text_color(*INK)
        for index, text in enumerate(_party_lines(party)):
            pdf.set_font(FONT, "B" if index == 0 else "", 10)
            pdf.multi_cell(half - 4, 5, text, new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 4)


def _dates(pdf: FPDF, facts: InvoiceFacts) -> None:
    rows = [
        ("Number", facts.number),
        ("Issue date", f"{facts.issued_on:%d %B %Y}"),
        ("Period", f"{facts.period_start:%d %B %Y} to {facts.period_end:%d %B %Y}"),
    ]
    if not facts.is_credit_note:
        rows.append(("Due date", f"{facts.due_on:%d %B %Y}"))
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(30, 6, label)
        pdf.set_font(FONT, size=10)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _lines(pdf: FPDF, facts: InvoiceFacts) -> None:
    heads = ("#", "Description", "Quantity", "Unit", f"Price ({facts.currency})", "VAT", "Net")
    heading = FontFace(emphasis="BOLD", fill_color=HEAD_FILL)
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=LINE_WIDTHS,
        text_align=("RIGHT", "LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=5,
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        table.row(heads)
        for line in facts.lines:
            description = line.description + (f"\n{line.note}" if line.note else "")
            table.row(
                (
                    str(line.position),
                    description,
                    quantity(line.quantity),
                    UNIT_NAMES.get(line.unit_code, line.unit_code),
                    money(line.unit_price),
                    f"{line.category} {percent(line.rate)}%",
                    money(line.net),
                )
            )
    pdf.ln(4)


def _vat(pdf: FPDF, facts: InvoiceFacts) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    left = pdf.l_margin + width - 110
    pdf.set_font(FONT, size=9)
    for group in facts.vat:
        reason = f" ({group.exemption_text})" if group.exemption_text else ""
        label = f"VAT {group.category} {percent(group.rate)}% on {money(group.base)}{reason}"
        _total_row(pdf, left, label, money(group.tax), bold=False)
    _total_row(pdf, left, "Total net", money(facts.net), bold=False)
    _total_row(pdf, left, "Total VAT", money(facts.tax), bold=False)
    label = "Total credited" if facts.is_credit_note else "Total due"
    _total_row(pdf, left, f"{label} ({facts.currency})", money(facts.gross), bold=True)
    pdf.ln(6)


def _total_row(pdf: FPDF, left: float, label: str, value: str, *, bold: bool) -> None:
    pdf.set_x(left)
    pdf.set_font(FONT, "B" if bold else "", 11 if bold else 9)
    pdf.cell(76, 6, label, border="T" if bold else 0)
    pdf.cell(34, 6, value, border="T" if bold else 0, align="R", new_x="LMARGIN", new_y="NEXT")


def _payment(pdf: FPDF, facts: InvoiceFacts) -> None:
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, facts.payment_terms, new_x="LMARGIN", new_y="NEXT")
    if facts.iban and not facts.is_credit_note:
        pdf.multi_cell(0, 5, f"By transfer to IBAN {facts.iban}, quoting {facts.number}.")
