"""Time zones, coordinates, working hours and distances: validation and arithmetic.

Every validator raises ``ValidationError`` with ``params["allowed"]`` describing what is
accepted, so the API can answer with the field, the problem and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# ASCII digits and nothing after: "\d" and "$" let "0\u0669:00" and "09:00\n" through, and the
# partner's page could not read them back.
HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
EARTH_RADIUS_KM = 6371.0088


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


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


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
    spans = []
    for interval in intervals:
        if (
            not isinstance(interval, list | tuple)
            or len(interval) != 2
            or not all(isinstance(t, str) and HHMM.fullmatch(t) for t in interval)
        ):
            raise ValidationError(
                "%(day)s has a malformed interval %(interval)r.",
                params={"day": day, "interval": interval, "allowed": HOURS_ALLOWED},
            )
        start, end = (_minutes(t) for t in interval)
        if start >= end:
            raise ValidationError(
                "%(day)s interval %(interval)r ends before it starts.",
                params={"day": day, "interval": list(interval), "allowed": HOURS_ALLOWED},
            )
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ValidationError(
                "%(day)s has overlapping intervals.", params={"day": day, "allowed": HOURS_ALLOWED}
            )


def shift_at(hours: dict, time_zone: str, at: dt.datetime) -> tuple[dt.time, dt.time] | None:
    """The working interval (local start, local end) that contains ``at``, if any."""
    local = at.astimezone(zoneinfo.ZoneInfo(time_zone))
    minute = local.hour * 60 + local.minute
    for start, end in hours.get(WEEKDAYS[local.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return _as_time(start), _as_time(end)
    return None


def _as_time(text: str) -> dt.time:
    return dt.time(0, 0) if text == "24:00" else dt.time.fromisoformat(text)


def weekly_minutes(hours: dict) -> int:
    return sum(_minutes(end) - _minutes(start) for day in hours.values() for start, end in day)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def hours_in_zone(hours: dict, from_zone: str, to_zone: str, week_of: dt.date) -> list[dict]:
    """Each working interval with its start and end as seen from ``to_zone`` that week."""
    source, target = zoneinfo.ZoneInfo(from_zone), zoneinfo.ZoneInfo(to_zone)
    monday = week_of - dt.timedelta(days=week_of.weekday())
    rows = []
    for index, day in enumerate(WEEKDAYS):
        date = monday + dt.timedelta(days=index)
        for start, end in hours.get(day, []):
            begins = _local(date, start, source).astimezone(target)
            ends = _local(date, end, source).astimezone(target)
            rows.append(
                {"day": day, "start": start, "end": end, "there_start": begins, "there_end": ends}
            )
    return rows


def _local(date: dt.date, text: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    if text == "24:00":
        return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0, 0), zone)
    return dt.datetime.combine(date, dt.time.fromisoformat(text), zone)
