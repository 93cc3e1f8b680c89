"""The expirations register as an iCalendar feed: one all-day event per item on its expiry
date, for phone and desktop calendars."""

from __future__ import annotations

import datetime as dt

import icalendar

DAYS_BEFORE = 31
MAX_ITEMS = 5000


def expirations_calendar(items, title: str, now: dt.datetime, link: str) -> bytes:
    """Items expiring from a month ago on; a file's item says only "a stored file" (the file's
    name is seen with the file, under the folder rule)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Thirdway//expirations//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    since = now.date() - dt.timedelta(days=DAYS_BEFORE)
    for item in items.filter(expires_on__gte=since).order_by("expires_on", "pk")[:MAX_ITEMS]:
        name = "a stored file" if item.kind == "file" else item.name
        event = icalendar.Event()
        event.add("uid", f"expiry-{item.pk}-{item.expires_on:%Y%m%d}@thirdway")
        event.add("summary", f"{item.get_kind_display()} expires: {name} ({item.client.name})")
        event.add("dtstart", item.expires_on)
        event.add("dtend", item.expires_on + dt.timedelta(days=1))
        event.add("dtstamp", now)
        event.add("description", f"Reminders {item.reminder_steps} days before. {link}")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
