"""What an invoice document says, read once from the database into plain values: the seller
(the practice's billing settings), the buyer (the client), the lines, VAT per category and
the totals.  The PDF, CII and UBL writers take these and query nothing.

A draft has no number and no document (409).  An EN 16931 e-invoice also needs the seller's
country and VAT identifier, and for reverse charge the buyer's (the client's billing details);
without them it is refused naming the missing setting, while the PDF prints what is filled in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Min

from thirdway.billing.invoice_models import Invoice, InvoiceKind, InvoiceState
from thirdway.billing.invoicing import vat_breakdown
from thirdway.billing.models import BillingSettings, ClientBillingDetails, TimeEntry, Unit
from thirdway.tickets.lifecycle import TransitionRefused

DOCUMENT_STATES = sorted(state for state in InvoiceState.values if state != InvoiceState.DRAFT)
# UN/ECE Recommendation 20 units: hours, and "one" for monthly charges and anything else.
UNIT_CODES = {Unit.HOUR: "HUR"}
ONE = "C62"
# Why a line bears no VAT (EN 16931 BT-120 and BT-121, VATEX codes); zero rated needs none.
EXEMPTIONS = {"E": ("", "Exempt from VAT"), "AE": ("VATEX-EU-AE", "Reverse charge")}
# A town line's post code: before the city (69002 Lyon, 00-950 Warszawa, 1012 AB Amsterdam,
# D-10115 Berlin) or after it (London SW1A 1AA).
POSTCODE_FIRST = re.compile(r"^((?:[A-Z]{1,2}-)?\d[\d-]*(?: [A-Z]{2}(?= ))?)\s+(\D.*)$")
POSTCODE_LAST = re.compile(r"^(\D.*?),?\s+([A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})$")


class DraftHasNoDocument(TransitionRefused):
    """A draft has no number, so no document (409), until it is approved."""

    def __init__(self, invoice: Invoice) -> None:
        self.current = invoice.state  # type: ignore[assignment]
        self.wanted = "document"
        self.allowed = DOCUMENT_STATES
        ValueError.__init__(
            self,
            "A draft has no number yet, so it has no PDF or e-invoice: approve it first. "
            f"Documents exist for invoices that are {', '.join(DOCUMENT_STATES)}.",
        )


class NotReadyForEinvoice(Exception):
    """An e-invoice needs a detail Thirdway does not have yet (409); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Party:
    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    vat_id: str = ""
    more: str = ""  # a second address line (BT-51, BT-36)

    @property
    def address_lines(self) -> list[str]:
        town = " ".join(part for part in (self.postcode, self.city) if part)
        return [part for part in (self.street, self.more, town, self.country) if part]


@dataclass(frozen=True)
class DocumentLine:
    position: int
    description: str
    note: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net: Decimal
    category: str
    rate: Decimal
    # The days a line covers (BT-134, BT-135): a monthly charge's, the time a time line bills
    # (or, on a credit note, the time its credited line bills); one-off lines have none.
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @property
    def period(self) -> tuple[dt.date, dt.date] | None:
        """Both days, or nothing: EN 16931 wants an end no earlier than the start (BR-30)."""
        if self.period_start and self.period_end and self.period_end >= self.period_start:
            return self.period_start, self.period_end
        return None


@dataclass(frozen=True)
class VatGroup:
    category: str
    rate: Decimal
    base: Decimal
    tax: Decimal

    @property
    def exemption_code(self) -> str:
        return EXEMPTIONS.get(self.category, ("", ""))[0]

    @property
    def exemption_text(self) -> str:
        return EXEMPTIONS.get(self.category, ("", ""))[1]


@dataclass(frozen=True)
class InvoiceFacts:
    kind: str
    number: str
    state: str
    issued_on: dt.date
    due_on: dt.date
    payment_days: int
    period_start: dt.date
    period_end: dt.date
    currency: str
    seller: Party
    buyer: Party
    iban: str
    lines: tuple[DocumentLine, ...]
    vat: tuple[VatGroup, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    credits_number: str = ""
    credits_issued_on: dt.date | None = None

    @property
    def line_total(self) -> Decimal:
        """The sum of the lines' net amounts (BT-106)."""
        return sum((line.net for line in self.lines), Decimal("0.00"))

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def type_code(self) -> str:
        """UNTDID 1001: 380 a commercial invoice, 381 a credit note."""
        return "381" if self.is_credit_note else "380"

    @property
    def title(self) -> str:
        return "Credit note" if self.is_credit_note else "Invoice"

    @property
    def payment_terms(self) -> str:
        if self.is_credit_note:
            return f"Credits invoice {self.credits_number}; nothing is due from the buyer."
        return f"Payable within {self.payment_days} days, by {self.due_on:%d %B %Y}."


def _issued(invoice: Invoice) -> dt.date:
    if invoice.issued_on:
        return invoice.issued_on
    return (invoice.approved_at or invoice.created_at).date()


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _seller(invoice: Invoice, settings: BillingSettings | None) -> Party:
    if settings is None:
        return Party(name=invoice.practice.name)
    return Party(
        name=settings.legal_name or invoice.practice.name,
        street=settings.street,
        postcode=settings.postcode,
        city=settings.city,
        country=settings.country,
        vat_id=settings.vat_id,
    )


def town(line: str) -> tuple[str, str]:
    """A town line as (post code, city): ``69002 Lyon`` is ("69002", "Lyon"), ``London SW1A
    1AA`` is ("SW1A 1AA", "London"); a line without a post code is all city."""
    if found := POSTCODE_FIRST.match(line):
        return found[1], found[2].strip()
    if found := POSTCODE_LAST.match(line):
        return found[2], found[1].strip()
    return "", line


def postal_address(address: str) -> dict[str, str]:
    """A site's free-text address as the parts of a postal address (EN 16931 BG-8): its first
    line the address line (BT-50), its last the post code and city (BT-53, BT-52), any between
    a second address line (BT-51).  One line is read the same way, cut at its commas
    (``1 rue du Pain, 69002 Lyon``)."""
    lines = [part.strip() for part in address.splitlines() if part.strip()]
    if len(lines) == 1:
        lines = [part.strip() for part in lines[0].split(",") if part.strip()]
    if not lines:
        return {}
    if len(lines) == 1:
        return {"street": lines[0]}
    postcode, city = town(lines[-1])
    return {"street": lines[0], "more": ", ".join(lines[1:-1]), "postcode": postcode, "city": city}


def _buyer(invoice: Invoice) -> Party:
    """The client, at the address of its first site (:func:`postal_address`)."""
    client = invoice.client
    site = client.sites.order_by("pk").first()
    details = ClientBillingDetails.objects.filter(client=client).first()
    return Party(
        name=client.name,
        country=client.country,
        vat_id=details.vat_id if details else "",
        **postal_address(site.address if site else ""),
    )


def _time_days(invoice: Invoice) -> dict[int, tuple[dt.date, dt.date]]:
    """The first and last day of the time each of the invoice's lines bills, by line id: a
    time line's entries (``invoice_line``), an after-hours line's (``after_hours_line``)."""
    found: dict[int, tuple[dt.date, dt.date]] = {}
    for claim in ("invoice_line", "after_hours_line"):
        days = (
            TimeEntry.objects.filter(**{f"{claim}__invoice": invoice})
            .values_list(claim)
            .annotate(first=Min("worked_on"), last=Max("worked_on"))
            .values_list(claim, "first", "last")
            .order_by()
        )
        for line, first, last in days:
            known = found.get(line, (first, last))
            found[line] = (min(known[0], first), max(known[1], last))
    return found


def _credited_days(invoice: Invoice, rows: list) -> dict[int, tuple[dt.date, dt.date]]:
    """A credit note's lines, by id, with the first and last day of the time billed by the line
    each credits: the note copies its invoice's lines in their order
    (:func:`~thirdway.billing.issuing.credit_invoice`), so each credits the line in its place."""
    credited = invoice.credits
    if credited is None:
        return {}
    originals = list(credited.lines.order_by("pk").values_list("pk", "description"))
    if len(originals) != len(rows):
        return {}
    days = _time_days(credited)
    return {
        row.pk: days[pk]
        for row, (pk, description) in zip(rows, originals, strict=True)
        if pk in days and description == row.description
    }


def _lines(invoice: Invoice) -> tuple[list, tuple[DocumentLine, ...]]:
    """The lines, each with its period: a monthly charge's days, a time line's first and last
    day of the time it bills (a credit note's, of the time its credited line bills)."""
    rows = list(invoice.lines.select_related("contract_line").order_by("pk"))
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        days = _credited_days(invoice, rows)
    else:
        days = _time_days(invoice)
    periods = [
        (row.period_start, row.period_end) if row.period_start else days.get(row.pk, (None, None))
        for row in rows
    ]
    return rows, tuple(
        DocumentLine(
            position=index,
            description=row.description,
            note=row.quantity_source,
            quantity=row.quantity,
            unit_code=UNIT_CODES.get(getattr(row.contract_line, "unit", None), ONE),
            unit_price=row.unit_price,
            net=row.net,
            category=row.vat_category,
            rate=row.vat_rate,
            period_start=start,
            period_end=end,
        )
        for index, (row, (start, end)) in enumerate(zip(rows, periods, strict=True), start=1)
    )


def _period(month: dt.date, lines: tuple[DocumentLine, ...]) -> tuple[dt.date, dt.date]:
    """The invoice's period (BT-73, BT-74): the month billed, widened to hold every line's
    period, so a month billed in advance still lies within it."""
    periods = [line.period for line in lines if line.period]
    starts = [month, *(start for start, _ in periods)]
    ends = [_month_end(month), *(end for _, end in periods)]
    return min(starts), max(ends)


def facts_of(invoice: Invoice) -> InvoiceFacts:
    """The facts of an approved, sent, paid or credited invoice or credit note."""
    if invoice.state == InvoiceState.DRAFT or not invoice.number:
        raise DraftHasNoDocument(invoice)
    settings = BillingSettings.objects.filter(practice_id=invoice.practice_id).first()
    rows, lines = _lines(invoice)
    issued = _issued(invoice)
    days = settings.payment_days if settings else 30
    credited = invoice.credits
    period_start, period_end = _period(invoice.month, lines)
    return InvoiceFacts(
        kind=invoice.kind,
        number=invoice.number,
        state=invoice.state,
        issued_on=issued,
        due_on=issued + dt.timedelta(days=days),
        payment_days=days,
        period_start=period_start,
        period_end=period_end,
        currency=invoice.currency,
        seller=_seller(invoice, settings),
        buyer=_buyer(invoice),
        iban=settings.iban if settings else "",
        lines=lines,
        vat=tuple(VatGroup(*group) for group in vat_breakdown(rows)),
        net=invoice.net,
        tax=invoice.tax,
        gross=invoice.gross,
        credits_number=(credited.number or "") if credited else "",
        credits_issued_on=_issued(credited) if credited else None,
    )


def require_einvoice_ready(facts: InvoiceFacts) -> None:
    """Refuse an e-invoice the EN 16931 rules would reject for a detail we lack."""
    if not facts.seller.country:
        raise NotReadyForEinvoice(
            "country", "The practice's billing settings have no country; an e-invoice needs it."
        )
    if not facts.seller.vat_id:
        raise NotReadyForEinvoice(
            "vat_id",
            "The practice's billing settings have no VAT identifier; an e-invoice needs it.",
        )
    if any(group.category == "AE" for group in facts.vat) and not facts.buyer.vat_id:
        raise NotReadyForEinvoice(
            "buyer_vat_id",
            "A reverse-charge e-invoice needs the client's VAT identifier: add it to the "
            "client's billing details.",
        )
