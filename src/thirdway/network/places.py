"""Time zones, coordinates and working hours: validation and arithmetic.

Every validator raises ``ValidationError`` with ``params["allowed"]`` describing what is
accepted, so the API can answer with the field, the problem and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

from thirdway.weekly_hours import (
    WEEKDAYS,
    HoursError,
    Interval,
    check_day,
    format_time,
    parse_time,
    time_of_day,
    wall_clock,
)

LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(
            "Unknown time zone %(value)r.",
            code="time_zone",
            params={"value": value, "allowed": "an IANA time zone name such as Europe/Paris"},
        )


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from the table the IANA time zone database ships."""
    from importlib.resources import files

    table = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text()
    return frozenset(
        line.split("\t")[0] for line in table.splitlines() if line and not line.startswith("#")
    )


def validate_country(value: str) -> None:
    if value not in country_codes():
        raise ValidationError(
            "Unknown country code %(value)r.",
            code="country",
            params={"value": value, "allowed": "an ISO 3166-1 alpha-2 code such as FR or CA"},
        )


def validate_latitude(value: float) -> None:
    if value is not None and not -90 <= value <= 90:
        raise ValidationError(
            "Latitude %(value)s is out of range.",
            code="latitude",
            params={"value": value, "allowed": "a number from -90 to 90"},
        )


def validate_longitude(value: float) -> None:
    if value is not None and not -180 <= value <= 180:
        raise ValidationError(
            "Longitude %(value)s is out of range.",
            code="longitude",
            params={"value": value, "allowed": "a number from -180 to 180"},
        )


def validate_languages(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(code, str) and LANGUAGE.match(code) for code in value
    ):
        raise ValidationError(
            "Languages must be a list of language codes.",
            code="languages",
            params={"allowed": 'a list of ISO 639 codes in lower case, e.g. ["en", "fr"]'},
        )


HOURS_ALLOWED = (
    'an object with keys mon..sun, each a list of ["HH:MM", "HH:MM"] intervals, start before '
    'end, not overlapping, e.g. {"mon": [["09:00", "17:00"]]}'
)


def validate_working_hours(value) -> None:
    """Weekly hours in the partner's own zone: ``{"mon": [["09:00", "17:00"]], ...}``."""
    if not isinstance(value, dict):
        raise ValidationError("Working hours must be an object.", params={"allowed": HOURS_ALLOWED})
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(
                "Unknown weekday %(day)r.", params={"day": day, "allowed": HOURS_ALLOWED}
            )
        _validate_day(day, intervals)


def _validate_day(day: str, intervals) -> None:
    if not isinstance(intervals, list):
        raise ValidationError(
            "%(day)s must be a list.", params={"day": day, "allowed": HOURS_ALLOWED}
        )
    try:
        check_day(day, (_interval(day, interval) for interval in intervals))
    except HoursError as error:
        if error.problem == "inverted":
            start, end = error.value
            raise ValidationError(
                "%(day)s interval %(interval)r ends before it starts.",
                params={
                    "day": day,
                    "interval": [format_time(start), format_time(end)],
                    "allowed": HOURS_ALLOWED,
                },
            ) from error
        raise ValidationError(
            "%(day)s has overlapping intervals.", params={"day": day, "allowed": HOURS_ALLOWED}
        ) from error


def _interval(day: str, interval) -> Interval:
    if isinstance(interval, list | tuple) and len(interval) == 2:
        try:
            return parse_time(interval[0]), parse_time(interval[1])
        except HoursError:
            pass  # refused below, with the interval as it was given
    raise ValidationError(
        "%(day)s has a malformed interval %(interval)r.",
        params={"day": day, "interval": interval, "allowed": HOURS_ALLOWED},
    )


def shift_at(hours: dict, time_zone: str, at: dt.datetime) -> tuple[dt.time, dt.time] | None:
    """The working interval (local start, local end) that contains ``at``, if any."""
    local = at.astimezone(zoneinfo.ZoneInfo(time_zone))
    minute = local.hour * 60 + local.minute
    for start, end in hours.get(WEEKDAYS[local.weekday()], []):
        first, last = parse_time(start), parse_time(end)
        if first <= minute < last:
            return time_of_day(first), time_of_day(last)
    return None


def weekly_minutes(hours: dict) -> int:
    return sum(parse_time(end) - parse_time(start) for day in hours.values() for start, end in day)


def hours_in_zone(hours: dict, from_zone: str, to_zone: str, week_of: dt.date) -> list[dict]:
    """Each working interval with its start and end as seen from ``to_zone`` that week."""
    source, target = zoneinfo.ZoneInfo(from_zone), zoneinfo.ZoneInfo(to_zone)
    monday = week_of - dt.timedelta(days=week_of.weekday())
    rows = []
    for index, day in enumerate(WEEKDAYS):
        date = monday + dt.timedelta(days=index)
        for start, end in hours.get(day, []):
            begins = wall_clock(date, parse_time(start), source).astimezone(target)
            ends = wall_clock(date, parse_time(end), source).astimezone(target)
            rows.append(
                {"day": day, "start": start, "end": end, "there_start": begins, "there_end": ends}
            )
    return rows
