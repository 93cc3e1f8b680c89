"""The delivery share of an after-hours line, weighed by each entry's minutes after hours.

Acme's calendar (``office``): Europe/Paris, Monday to Friday 08:00-18:00, a multiplier of 1.50
on partner time at 120.00 an hour.  Paula works in Europe/Paris, Oscar in America/Toronto (six
hours behind Paris in November).  The practice's rules: origination 20 % (Paula brought Acme),
delivery 60 %, pool 10 %, network 5 %, desk fee 5 % (no ticket resolved: it goes to delivery).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import issuing, month_end, services
from thirdway.billing.documents.facts import facts_of
from thirdway.billing.models import Invoice, InvoiceLine, Leg, TimeEntry

from . import test_after_hours as hours
from .test_after_hours import NOVEMBER, book, run

D = Decimal
office, rate = hours.office, hours.rate  # Acme's calendar and its time and materials


def approve(cast, approval: str) -> None:
    draft = Invoice.objects.get(client=cast.acme, state="draft")
    if approval == "one":
        issuing.approve_invoice(cast.admin, draft, source=Source.CLI)
    else:
        month_end.approve_drafts(cast.admin, cast.security, NOVEMBER, source=Source.CLI)


def split_of(line: InvoiceLine):
    """The line's split: its facts, each partner's delivery share and the sum of its shares."""
    split = line.transactions.get(kind="split")
    legs = list(split.legs.select_related("account"))
    delivered = {leg.account.partner_id: leg.amount for leg in legs if leg.rule == "delivery"}
    shared = sum((leg.amount for leg in legs if leg.amount < 0), D(0))
    assert sum((leg.amount for leg in legs), D(0)) == 0
    return split.facts, delivered, shared


@pytest.mark.parametrize("approval", ["one", "month_end"])
def test_the_after_hours_line_is_shared_by_each_partners_minutes_after_hours(
    cast, office, rate, approval
):
    """Paula works Tuesday 17:07-18:07 (53 min in hours, 7 after), Oscar 11:46-12:46 in
    Toronto, 17:46-18:46 in Paris (14 in hours, 46 after): 60 minutes each.  After hours: 53
    min = 0.88 h x 180.00 = 158.40; its delivery (65 % = 102.96) goes 7 to 46, not 60 to 60:
    Paula 102.96 x 7 / 53 = 13.598 -> 13.60, Oscar 102.96 x 46 / 53 = 89.362 -> 89.36; the
    shares add up to the line to the cent.  The time line (67 min = 1.12 h x 120.00 = 134.40)
    is still shared by the minutes worked, 60 to 60."""
    paula, oscar = cast.partner_record, cast.other_partner_record
    early = book(cast, rate, dt.date(2026, 11, 10), dt.time(17, 7), 60)
    late = book(cast, rate, dt.date(2026, 11, 10), dt.time(11, 46), 60, partner=oscar)
    run(cast)
    after = InvoiceLine.objects.get(description__endswith="×1.5")
    assert (after.quantity, after.net) == (D("0.88"), D("158.40"))
    assert after.after_hours_minutes == {str(early.pk): 7, str(late.pk): 46}

    approve(cast, approval)

    facts, delivered, shared = split_of(after)
    assert facts["delivery"] == {str(paula.pk): 7, str(oscar.pk): 46}
    assert facts["after_hours_minutes"] == {str(early.pk): 7, str(late.pk): 46}
    assert delivered == {paula.pk: D("-13.60"), oscar.pk: D("-89.36")}
    assert shared == -after.net
    in_hours = InvoiceLine.objects.get(description="Partner time")
    facts, delivered, shared = split_of(in_hours)
    assert facts["delivery"] == {str(paula.pk): 60, str(oscar.pk): 60}
    assert "after_hours_minutes" not in facts
    assert delivered[paula.pk] == delivered[oscar.pk]
    assert shared == -in_hours.net == D("-134.40")


def test_the_share_page_shows_the_minutes_after_hours_behind_the_amount(cast, office, rate, web_as):
    """Oscar's delivery share of the after-hours line shows each entry's minutes worked and
    after hours (Paula 60 and 7, Oscar 60 and 46), which weighed it."""
    oscar = cast.other_partner_record
    book(cast, rate, dt.date(2026, 11, 10), dt.time(17, 7), 60)
    book(cast, rate, dt.date(2026, 11, 10), dt.time(11, 46), 60, partner=oscar)
    run(cast)
    approve(cast, "one")
    leg = Leg.objects.get(
        account__partner=oscar,
        rule="delivery",
        transaction__invoice_line__description__endswith="×1.5",
    )
    page = web_as(cast.other_partner).get(f"/billing/statements/shares/{leg.pk}/")
    html = page.content.decode()
    assert "follows each entry's minutes after hours" in html
    assert "60 min, 7 after hours" in html and "60 min, 46 after hours" in html


def test_a_reversing_entry_takes_its_minutes_after_hours_back_from_its_partner(cast, office, rate):
    """Paula's Saturday hour (09:00) is billed, then corrected to 30 minutes once her week is
    approved: a reversal (-60 after hours) and a new entry (30).  With her next Sunday's 90
    minutes and Oscar's next Friday 11:30-12:30 in Toronto (17:30-18:30 in Paris: 30 in hours,
    30 after), the second after-hours line bills -60 + 30 + 90 + 30 = 90 min = 1.50 h x
    180.00 = 270.00.  Paula's minutes after hours come to 60 against Oscar's 30 (their minutes
    worked, 60 and 60, would share it evenly): of the delivery's 65 % = 175.50, Paula 117.00,
    Oscar 58.50."""
    paula, oscar = cast.partner_record, cast.other_partner_record
    saturday = book(cast, rate, dt.date(2026, 11, 14), dt.time(9, 0), 60)
    run(cast)
    services.correct_time(cast.admin, saturday, {"worked_minutes": 30}, source=Source.CLI)
    reversal = TimeEntry.objects.get(reverses=saturday)
    book(cast, rate, dt.date(2026, 11, 22), dt.time(10, 0), 90)
    book(cast, rate, dt.date(2026, 11, 20), dt.time(11, 30), 60, partner=oscar)
    run(cast)
    second = InvoiceLine.objects.filter(description__endswith="×1.5").latest("pk")
    assert (second.quantity, second.net) == (D("1.50"), D("270.00"))
    assert second.after_hours_minutes[str(reversal.pk)] == -60

    approve(cast, "one")

    facts, delivered, shared = split_of(second)
    assert facts["delivery"] == {str(paula.pk): 60, str(oscar.pk): 30}
    assert delivered == {paula.pk: D("-117.00"), oscar.pk: D("-58.50")}
    assert shared == -second.net
    # its e-invoice period: the days of the time it bills after hours, 14 to 22 November
    document = facts_of(Invoice.objects.get(pk=second.invoice_id))
    (billed,) = [line for line in document.lines if line.net == second.net]
    assert billed.period == (dt.date(2026, 11, 14), dt.date(2026, 11, 22))
