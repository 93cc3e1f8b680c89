"""From calendar rows to engine calendars: hours, public holidays and closed days.

Public holidays come from the ``holidays`` package for the calendar's country and region and
are materialised for a span of years around today; compiled calendars are cached per row
version, so the clock job builds each calendar once.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

from thirdway.errors import invalid
from thirdway.sla import engine

# Holidays for this many years either side of the evaluation year: enough for any due time.
HOLIDAY_YEARS_BEFORE = 1
HOLIDAY_YEARS_AFTER = 2


@cache
def supported_countries() -> dict[str, list[str]]:
    import holidays  # loaded when a calendar needs it: most processes never do

    return holidays.list_supported_countries()


def check_hours(weekly_hours: object) -> dict[str, list[list[str]]]:
    """Validate ``{"mon": [["08:00", "12:00"]], ...}`` with the engine's rules."""
    if not isinstance(weekly_hours, dict):
        raise invalid("weekly_hours", "Hours must be an object of weekdays.", _HOURS_ALLOWED)
    try:
        engine.Calendar.from_hours("UTC", {day: _pairs(v) for day, v in weekly_hours.items()})
    except (engine.CalendarError, TypeError, ValueError) as error:
        raise invalid("weekly_hours", str(error), _HOURS_ALLOWED) from error
    return {day: [list(pair) for pair in _pairs(v)] for day, v in weekly_hours.items() if v}


_HOURS_ALLOWED = (
    'weekdays mon..sun, each a list of ["HH:MM", "HH:MM"] intervals that do not overlap, '
    "start before end, at least one interval in the week"
)


def _pairs(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise engine.CalendarError(f"hours of a weekday must be a list, got {value!r}")
    pairs = []
    for item in value:
        if isinstance(item, str):
            engine.parse_interval(item)  # refuses a malformed "HH:MM-HH:MM"
            start, end = item.split("-")
            pairs.append((start, end))
        elif isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise engine.CalendarError(f"malformed interval {item!r}: expected [HH:MM, HH:MM]")
    return pairs


def check_zone(time_zone: str) -> None:
    try:
        engine.Calendar.twenty_four_seven(time_zone)
    except engine.CalendarError as error:
        raise invalid(
            "time_zone", str(error), "an IANA time zone name such as Europe/Paris"
        ) from error


def check_holiday_area(country: str, region: str) -> None:
    if not country:
        if region:
            raise invalid("holiday_region", "A region needs a country.", "a country code first")
        return
    supported = supported_countries()
    if country not in supported:
        raise invalid(
            "holiday_country",
            f"No public holidays are known for {country!r}.",
            "an ISO 3166-1 alpha-2 code the holidays package supports, e.g. FR, DE, US, CA",
        )
    if region and region not in supported[country]:
        raise invalid(
            "holiday_region",
            f"{country} has no region {region!r}.",
            ", ".join(supported[country][:40]) or "no regions for this country",
        )


def check_closed_dates(values: object) -> list[str]:
    if not isinstance(values, list):
        raise invalid("closed_dates", "Closed dates must be a list.", "a list of YYYY-MM-DD")
    try:
        return sorted({dt.date.fromisoformat(str(value)).isoformat() for value in values})
    except ValueError as error:
        raise invalid("closed_dates", str(error), "a list of YYYY-MM-DD dates") from error


def public_holidays(country: str, region: str, years: range) -> frozenset[dt.date]:
    if not country:
        return frozenset()
    import holidays

    found = holidays.country_holidays(country, subdiv=region or None, years=list(years))
    return frozenset(found.keys())


def to_engine(row, today: dt.date | None = None) -> engine.Calendar:
    """The engine calendar of a ``BusinessCalendar`` row (cached per row and version)."""
    year = (today or dt.date.today()).year
    return _compiled(
        row.pk,
        row.updated_at,
        row.time_zone,
        _freeze(row.weekly_hours),
        row.holiday_country,
        row.holiday_region,
        tuple(row.closed_dates),
        year,
    )


def _freeze(hours: dict) -> tuple:
    return tuple((day, tuple(tuple(pair) for pair in v)) for day, v in sorted(hours.items()))


@lru_cache(maxsize=256)
def _compiled(pk, version, zone, hours, country, region, closed, year) -> engine.Calendar:
    years = range(year - HOLIDAY_YEARS_BEFORE, year + HOLIDAY_YEARS_AFTER + 1)
    days = public_holidays(country, region, years) | {dt.date.fromisoformat(d) for d in closed}
    return engine.Calendar.from_hours(zone, {day: list(v) for day, v in hours}, days)


def twenty_four_seven_hours() -> dict[str, list[list[str]]]:
    return {day: [["00:00", "24:00"]] for day in engine.WEEKDAYS}
