"""A partner's on-call duties as an iCalendar feed for phone calendars."""

from __future__ import annotations

import datetime as dt

import icalendar

from thirdway.network.models import Partner, Rota
from thirdway.network.oncall import plan_of

FEED_DAYS_BEFORE = 7
FEED_DAYS_AFTER = 60


def on_call_calendar(partner: Partner, now: dt.datetime) -> bytes:
    """Every stretch of the next two months (and last week) when ``partner`` is on call."""
    start = (now - dt.timedelta(days=FEED_DAYS_BEFORE)).replace(minute=0, second=0, microsecond=0)
    end = now + dt.timedelta(days=FEED_DAYS_AFTER)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Thirdway//on-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"On call: {partner.name}")
    rotas = Rota.objects.filter(memberships__partner=partner) | Rota.objects.filter(
        overrides__partner=partner
    )
    for rota in rotas.distinct().select_related("practice"):
        for s, e, who in plan_of(rota, start, end).segments(start, end):
            if who != partner.pk:
                continue
            event = icalendar.Event()
            event.add("uid", f"oncall-{rota.pk}-{partner.pk}-{int(s.timestamp())}@thirdway")
            event.add("summary", f"On call: {rota.name}")
            event.add("dtstart", s)
            event.add("dtend", e)
            event.add("dtstamp", now)
            cal.add_component(event)
    return cal.to_ical()
