"""A partner's working hours: what is refused and how it reads, the shift at an instant, and the
week seen from another time zone (across daylight-saving changes)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from thirdway.network.places import (
    HOURS_ALLOWED,
    hours_in_zone,
    shift_at,
    validate_working_hours,
    weekly_minutes,
)

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")


def refusal(hours: object) -> tuple[str, dict]:
    with pytest.raises(ValidationError) as caught:
        validate_working_hours(hours)
    assert caught.value.params["allowed"] == HOURS_ALLOWED
    return caught.value.messages[0], caught.value.params


@pytest.mark.parametrize(
    "hours",
    [
        {},
        {"mon": []},
        {"mon": [["09:00", "12:00"], ["12:00", "17:00"]]},
        {"tue": [("00:00", "24:00")], "sun": [["18:00", "24:00"], ["00:00", "06:00"]]},
        {"wed": [["23:59", "24:00"]]},
    ],
    ids=["empty", "closed day", "touching", "whole day and tuples", "last minute"],
)
def test_working_hours_that_are_accepted(hours) -> None:
    validate_working_hours(hours)


@pytest.mark.parametrize(
    ("hours", "message", "params"),
    [
        ([], "Working hours must be an object.", {}),
        ({"funday": []}, "Unknown weekday 'funday'.", {"day": "funday"}),
        ({"mon": "09:00-17:00"}, "mon must be a list.", {"day": "mon"}),
        ({"mon": (("09:00", "17:00"),)}, "mon must be a list.", {"day": "mon"}),
        (
            {"tue": [["09:00"]]},
            "tue has a malformed interval ['09:00'].",
            {"day": "tue", "interval": ["09:00"]},
        ),
        (
            {"tue": [["09:00", "12:00", "17:00"]]},
            "tue has a malformed interval ['09:00', '12:00', '17:00'].",
            {"day": "tue", "interval": ["09:00", "12:00", "17:00"]},
        ),
        (
            {"tue": ["09:00-17:00"]},
            "tue has a malformed interval '09:00-17:00'.",
            {"day": "tue", "interval": "09:00-17:00"},
        ),
        (
            {"wed": [["9:00", "17:00"]]},
            "wed has a malformed interval ['9:00', '17:00'].",
            {"day": "wed", "interval": ["9:00", "17:00"]},
        ),
        (
            {"wed": [["09:00", "24:30"]]},
            "wed has a malformed interval ['09:00', '24:30'].",
            {"day": "wed", "interval": ["09:00", "24:30"]},
        ),
        (
            {"wed": [["09:60", "17:00"]]},
            "wed has a malformed interval ['09:60', '17:00'].",
            {"day": "wed", "interval": ["09:60", "17:00"]},
        ),
        (
            {"wed": [[" 09:00", "17:00"]]},
            "wed has a malformed interval [' 09:00', '17:00'].",
            {"day": "wed", "interval": [" 09:00", "17:00"]},
        ),
        (
            {"wed": [["09:00\n", "17:00"]]},
            "wed has a malformed interval ['09:00\\n', '17:00'].",
            {"day": "wed", "interval": ["09:00\n", "17:00"]},
        ),
        (
            {"wed": [["0\u0669:00", "17:00"]]},
            "wed has a malformed interval ['0\u0669:00', '17:00'].",
            {"day": "wed", "interval": ["0\u0669:00", "17:00"]},
        ),
        (
            {"wed": [[900, 1700]]},
            "wed has a malformed interval [900, 1700].",
            {"day": "wed", "interval": [900, 1700]},
        ),
        (
            {"thu": [["17:00", "09:00"]]},
            "thu interval ['17:00', '09:00'] ends before it starts.",
            {"day": "thu", "interval": ["17:00", "09:00"]},
        ),
        (
            {"thu": [("12:00", "12:00")]},
            "thu interval ['12:00', '12:00'] ends before it starts.",
            {"day": "thu", "interval": ["12:00", "12:00"]},
        ),
        (
            {"thu": [["24:00", "24:00"]]},
            "thu interval ['24:00', '24:00'] ends before it starts.",
            {"day": "thu", "interval": ["24:00", "24:00"]},
        ),
        (
            {"fri": [["13:00", "17:00"], ["09:00", "13:30"]]},
            "fri has overlapping intervals.",
            {"day": "fri"},
        ),
    ],
    ids=[
        "not an object",
        "unknown weekday",
        "day as a string",
        "day as a tuple",
        "one time",
        "three times",
        "interval as a string",
        "hour without its leading zero",
        "past the end of the day",
        "minute 60",
        "blank before a time",
        "line break after a time",
        "digit of another script",
        "numbers",
        "inverted",
        "empty",
        "starting at the end of the day",
        "overlapping",
    ],
)
def test_working_hours_that_are_refused_say_why(hours, message, params) -> None:
    said, given = refusal(hours)

    assert said == message
    assert {key: value for key, value in given.items() if key != "allowed"} == params


def test_the_first_problem_in_the_order_given_is_the_one_reported() -> None:
    # Days in the order of the object, intervals in the order of the list; overlaps once a
    # day's intervals are all read.
    assert refusal({"tue": [["12:00", "09:00"]], "mon": [["x", "y"]]})[0] == (
        "tue interval ['12:00', '09:00'] ends before it starts."
    )
    assert refusal({"mon": [["12:00", "09:00"], ["x", "y"]]})[0] == (
        "mon interval ['12:00', '09:00'] ends before it starts."
    )
    assert refusal({"mon": [["09:00", "12:00"], ["10:00", "11:00"], ["x", "y"]]})[0] == (
        "mon has a malformed interval ['x', 'y']."
    )
    assert refusal({"mon": [["09:00", "12:00"]], "funday": []})[0] == "Unknown weekday 'funday'."


def test_the_shift_at_an_instant_is_read_in_the_partner_s_zone() -> None:
    hours = {"mon": [["09:00", "12:00"], ["13:00", "24:00"]]}
    monday = dt.datetime(2026, 1, 5, tzinfo=PARIS)

    assert shift_at(hours, "Europe/Paris", monday.replace(hour=9)) == (
        dt.time(9, 0),
        dt.time(12, 0),
    )
    assert shift_at(hours, "Europe/Paris", monday.replace(hour=11, minute=59)) is not None
    assert shift_at(hours, "Europe/Paris", monday.replace(hour=12)) is None  # closing is closed
    assert shift_at(hours, "Europe/Paris", monday.replace(hour=23, minute=59)) == (
        dt.time(13, 0),
        dt.time(0, 0),
    )
    # 09:30 in Paris is 03:30 in Montreal: before the partner's Monday starts there.
    assert shift_at(hours, "America/Montreal", monday.replace(hour=9, minute=30)) is None
    assert shift_at({}, "Europe/Paris", monday.replace(hour=10)) is None


def test_weekly_minutes_add_up_every_interval() -> None:
    assert weekly_minutes({"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "sat": []}) == 840


def test_the_week_seen_from_another_zone_follows_each_zone_s_daylight_saving() -> None:
    # Europe moves its clocks on 29 March 2026, North America on 8 March.
    hours = {"sun": [["01:00", "04:00"]], "mon": [["22:00", "24:00"]]}
    rows = hours_in_zone(hours, "Europe/Paris", "America/Montreal", dt.date(2026, 3, 25))

    assert [(row["day"], row["start"], row["end"]) for row in rows] == [
        ("mon", "22:00", "24:00"),
        ("sun", "01:00", "04:00"),
    ]
    monday, sunday = rows
    assert monday["there_start"] == dt.datetime(2026, 3, 23, 17, 0, tzinfo=MONTREAL)
    assert monday["there_end"] == dt.datetime(2026, 3, 23, 19, 0, tzinfo=MONTREAL)
    # 02:00-03:00 never happens in Paris that Sunday: the three hours last two.
    assert sunday["there_start"] == dt.datetime(2026, 3, 28, 20, 0, tzinfo=MONTREAL)
    assert sunday["there_end"] == dt.datetime(2026, 3, 28, 22, 0, tzinfo=MONTREAL)


def test_a_time_in_the_gap_of_spring_forward_is_read_with_the_offset_before_it() -> None:
    rows = hours_in_zone({"sun": [["02:30", "03:30"]]}, "Europe/Paris", "UTC", dt.date(2026, 3, 29))

    assert (rows[0]["there_start"], rows[0]["there_end"]) == (
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
    )


def test_a_repeated_hour_of_fall_back_is_read_as_its_first_pass() -> None:
    rows = hours_in_zone(
        {"sun": [["02:30", "03:30"]]}, "Europe/Paris", "UTC", dt.date(2026, 10, 25)
    )

    assert (rows[0]["there_start"], rows[0]["there_end"]) == (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.UTC),
    )
