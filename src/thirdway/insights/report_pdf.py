"""A client report as a PDF (fpdf2, pure Python), drawn from the figures stored with the report.

Set in Thirdway's own font, embedded (``thirdway.pdf_document``): every name prints whole.
"""

from __future__ import annotations

import re

from fpdf import FPDF

from thirdway.pdf_document import FONT, PdfDocument

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (31, 78, 121)
GOOD = (25, 135, 84)
BAD = (176, 42, 55)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check(check: dict) -> str:
    up = "no results" if check["uptime"] is None else f"{percent(check['uptime'])} up"
    return f"{check['name']}: {up}, {count(check['alerts'], 'alert')}"


class _Document(PdfDocument):
    title_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"{self.title_text} - page {self.page_no()}/{{nb}}", align="C")


def render(report, figures: dict) -> bytes:
    """The PDF of ``report`` (a ``ClientReport``) from its stored ``figures``."""
    pdf = _Document()
    pdf.title_text = f"{figures['client_name']} - {report.period_label}"
    pdf.set_title(pdf.title_text)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    _heading(pdf, report, figures)
    _service_levels(pdf, figures)
    _recommendations(pdf, figures)
    _tickets(pdf, figures)
    _devices(pdf, figures)
    _risks(pdf, figures)
    _satisfaction(pdf, figures)
    return bytes(pdf.output())


def _h2(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*ACCENT)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=10)


def _para(pdf: FPDF, text: str, *, muted: bool = False) -> None:
    pdf.set_text_color(*(MUTED if muted else INK))
    pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _is_figure(cell: object) -> bool:
    if isinstance(cell, (int, float)):
        return True
    return isinstance(cell, str) and (cell == "-" or re.fullmatch(r"-?\d+(\.\d+)?%", cell))


def _aligns(columns: int, rows: list[tuple]) -> tuple[str, ...]:
    """Figures line up on the right, as in any table of numbers; words on the left."""
    return tuple(
        "RIGHT" if rows and all(_is_figure(row[n]) for row in rows) else "LEFT"
        for n in range(columns)
    )


def _table(pdf: FPDF, head: tuple[str, ...], rows: list[tuple], widths: tuple[int, ...]) -> None:
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=widths,
        text_align=_aligns(len(head), rows),
        line_height=5.5,
        first_row_as_headings=True,
    ) as table:
        table.row(list(head))
        for row in rows:
            table.row([str(cell) for cell in row])
    pdf.set_font(FONT, size=10)


def _heading(pdf: FPDF, report, figures: dict) -> None:
    pdf.set_font(FONT, "B", 20)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 10, figures["client_name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    pdf.set_text_color(*MUTED)
    pdf.cell(
        0,
        7,
        f"IT report - {report.period_label} ({figures['first_day']} to {figures['last_day']})",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*INK)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    summary = (
        f"{figures['opened']} tickets opened, {figures['resolved']} resolved, "
        f"{figures['open_at_end']} open at the end of the period. "
        f"{len(figures['recommendations'])} recommendation"
        f"{'' if len(figures['recommendations']) == 1 else 's'}."
    )
    _para(pdf, summary)
    pdf.set_font(FONT, size=10)


def _service_levels(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Service levels")
    rows = []
    for clock in figures["sla"]:
        if clock["attainment"] is None:
            verdict = "nothing due"
        else:
            verdict = "met" if clock["attainment"] >= clock["target"] else "under target"
        rows.append(
            (
                clock["label"],
                clock["measured"],
                clock["met"],
                percent(clock["attainment"]),
                percent(clock["target"]),
                verdict,
            )
        )
    _table(
        pdf,
        ("Clock", "Due in period", "Met", "Attained", "Target", "Result"),
        rows,
        (50, 28, 20, 25, 22, 35),
    )
    pdf.ln(1)
    _para(
        pdf,
        "A ticket counts when its due time fell in the period; met when answered "
        "(or resolved) by it.",
        muted=True,
    )


def _recommendations(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Recommendations")
    if not figures["recommendations"]:
        _para(pdf, "Nothing to recommend: no threshold was crossed this period.", muted=True)
    for n, rec in enumerate(figures["recommendations"], 1):
        pdf.set_font(FONT, "B", 10)
        _para(pdf, f"{n}. {rec['text']}")
        pdf.set_font(FONT, size=9)
        evidence = ", ".join(e["label"] for e in rec["evidence"][:8])
        more = len(rec["evidence"]) - 8
        _para(pdf, f"Evidence: {evidence}{f' and {more} more' if more > 0 else ''}", muted=True)
        pdf.set_font(FONT, size=10)
        pdf.ln(1)


def _tickets(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Tickets by category")
    rows = [(c["category"], c["opened"], c["resolved"]) for c in figures["categories"]]
    if rows:
        _table(pdf, ("Category", "Opened", "Resolved"), rows, (110, 35, 35))
    else:
        _para(pdf, "No tickets this period.", muted=True)
    if figures["recurring"]:
        _h2(pdf, "Recurring issues")
        rows = [
            ("Same device" if r["kind"] == "asset" else "Same subject", r["label"], r["count"])
            for r in figures["recurring"]
        ]
        _table(pdf, ("Kind", "Issue", "Tickets"), rows, (35, 120, 25))


def _devices(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Devices and their health")
    _para(
        pdf,
        f"{count(figures['checks_up'], 'check')} up and {figures['checks_down']} down when the "
        f"report was made; {count(figures['alerts_in_period'], 'alert')} in the period.",
    )
    rows = []
    for device in figures["devices"]:
        checks = "; ".join(_check(c) for c in device["checks"])
        rows.append((device["name"], device["health"], device["tickets"], checks or "-"))
    if rows:
        _table(pdf, ("Device", "Health", "Tickets", "Checks in the period"), rows, (40, 25, 18, 97))


def _risks(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Risks")
    if not figures["risks"]:
        _para(pdf, "No risk found.", muted=True)
    for risk in figures["risks"]:
        _para(pdf, f"- {risk['text']}")


def _satisfaction(pdf: FPDF, figures: dict) -> None:
    _h2(pdf, "Satisfaction")
    sat = figures["satisfaction"]
    if not sat["count"]:
        _para(pdf, "No ratings this period.", muted=True)
        return
    scores = ", ".join(f"{k}: {v}" for k, v in sorted(sat["scores"].items(), reverse=True))
    _para(
        pdf, f"{count(sat['count'], 'rating')}, average {sat['average']:.2f} out of 5 ({scores})."
    )
    if sat["low"]:
        _para(pdf, "Low ratings: " + ", ".join(e["label"] for e in sat["low"]), muted=True)
